// Types of compose-checks.mjs (for test/unit/compose.test.ts).
import type { Config, ENV_PREFIX, envOverrides, loadConfig } from '../src/config/index.js';

export type Env = Record<string, string | undefined>;
export interface Service {
  image?: string;
  build?: unknown;
  command?: unknown;
  entrypoint?: unknown;
  environment?: Record<string, unknown> | string[];
  depends_on?: string[] | Record<string, { condition?: string } | null>;
  volumes?: (string | { source?: string; target?: string })[];
  ports?: (string | number | { host_ip?: string })[];
  healthcheck?: { test?: unknown };
  stop_grace_period?: string;
  restart?: string;
}
export interface ComposeDoc {
  services?: Record<string, Service>;
  volumes?: Record<string, unknown>;
}
export interface Instruction {
  op: string;
  args: string;
}

export const PREFIX: typeof ENV_PREFIX;
export const MIN_GRACE_SECONDS: number;
export function interpolate(value: unknown, problems: string[], where: string): unknown;
export function environmentOf(service: Service | undefined): Env;
export function volumesOf(service: Service | undefined): { source?: string; target?: string }[];
export function durationSeconds(value: unknown): number;
export function dockerfileInstructions(text: string): Instruction[];
export function dockerfileArchiveEnv(instructions: Instruction[]): Env;
export function checkDockerfile(text: string): string[];
export function checkCompose(
  doc: ComposeDoc,
  deps: {
    loadConfig: typeof loadConfig;
    envOverrides: typeof envOverrides;
    dockerfileEnv?: Env;
  },
): string[];
export type { Config };
