import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';

interface ArgoCdTlsOptions {
  /** PEM file of the CA that signed Argo CD's certificate (ARGOCD_CA_FILE). */
  readonly caFile?: string | undefined;
  /** Skip certificate verification (ARGOCD_INSECURE=true), for lab clusters only. */
  readonly insecure?: boolean;
}

/**
 * A fetch for Argo CD alone when it needs its own CA or no verification, so the GitHub client keeps
 * the system trust store. Returns undefined when the defaults will do.
 */
export function argoCdFetch(options: ArgoCdTlsOptions): typeof fetch | undefined {
  if (!options.caFile && !options.insecure) return undefined;
  const dispatcher = new Agent({
    connect: { ...(options.caFile ? { ca: readFileSync(options.caFile, 'utf8') } : {}), rejectUnauthorized: !options.insecure },
  });
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(input as never, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
}
