/**
 * The service directory (issue 12; docs/coordination.md, "Service"): every partner's services as FHIR
 * HealthcareService in the one store, searched by need, PCN and place, edited by those who run them, each with
 * figures from its own referrals (a projection kept from the change feed, migration 084).
 */
export * from './types.ts';
export { serviceInput, openingTimeInput, type ServiceInput } from './service-input.ts';
export { capacityOf, pcnsCoveredOf, providerCodeOf, serviceTypesOf, toDirectoryService, toHealthcareService, type ServiceWords } from './service-fhir.ts';
export { MAX_SERVICES, readHealthcareService, readService, searchServices, serviceId, serviceProvider, type ServiceQuery, type ServiceSearch } from './read-services.ts';
export { assertCanEditServicesOf, createService, updateService } from './save-service.ts';
export { ACCEPTED_STATES, OPEN_STATES, serviceFigures } from './figures.ts';
export { DIRECTORY_CONSUMER, keepDirectoryFiguresCurrent, projectReferrals, type KeepFiguresOptions } from './keep-current.ts';
export { distanceKm } from './places.ts';
export { catchUpServiceReferrals, serviceInboxPage, type InboxIds, type InboxPosition } from './inbox-page.ts';
