/** Funding: allocations to an area or its PCNs, in integer pence. Owns the `allocation` table. */
export {
  ALLOCATION_CSV_COLUMNS,
  allocationCsvRows,
  allocationsForArea,
  listAllocations,
  saveAllocations,
  type Allocation,
  type AllocationView,
} from './allocations.ts';
