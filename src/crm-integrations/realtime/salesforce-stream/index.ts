export * from './salesforce-change-subscriber';
export * from './salesforce-stream.module';
