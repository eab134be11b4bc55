export * from './pipedrive-records';
export * from './pipedrive-sandbox';
