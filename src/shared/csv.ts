/** CSV for spreadsheets: a header row, and free text that starts like a formula quoted so a spreadsheet shows it, not runs it. */
import { stringify } from 'csv-stringify/sync';

export function spreadsheetCsv(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): string {
  const cast = { string: (value: string) => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value), boolean: (value: boolean) => (value ? 'true' : 'false') };
  return stringify([...rows], { header: true, columns: [...columns], cast });
}
