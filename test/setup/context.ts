// Types of the values test/setup/global-setup.ts provides to the integration tests.
declare module 'vitest' {
  export interface ProvidedContext {
    kafka: { brokers: string[]; version: string; dir: string | null };
    s3: {
      endpoint: string;
      region: string;
      accessKeyId: string;
      secretAccessKey: string;
      bucket: string;
      dir: string | null;
    };
  }
}
export {};
