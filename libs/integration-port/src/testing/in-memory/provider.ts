export const IN_MEMORY_PROVIDER = 'in-memory';
