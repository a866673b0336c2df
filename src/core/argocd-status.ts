import { z } from 'zod';

/**
 * The parts of Argo CD's Application and resource tree the gate reads (argo-cd
 * pkg/apis/application/v1alpha1/types.go). Unknown fields pass through untouched; missing optional
 * ones default, so older and newer servers both parse.
 */
const HealthStatus = z.object({ status: z.string().optional(), message: z.string().optional() }).partial();

const ApplicationSource = z
  .object({
    repoURL: z.string().optional(),
    path: z.string().optional(),
    chart: z.string().optional(),
    ref: z.string().optional(),
    targetRevision: z.string().optional(),
  })
  .loose();

export const ArgoApplication = z.object({
  metadata: z.object({ name: z.string(), deletionTimestamp: z.string().optional() }).loose(),
  spec: z
    .object({
      source: ApplicationSource.optional(),
      // Multi-source apps: Argo CD ignores `source` and reports one revision per entry (`status.sync.revisions`).
      sources: z.array(ApplicationSource).optional(),
      // Source hydrator apps (Argo CD 2.14+): the synced revision is a hydrated commit on another branch.
      sourceHydrator: z.unknown().optional(),
      syncPolicy: z
        .object({
          automated: z
            .object({ prune: z.boolean().optional(), selfHeal: z.boolean().optional(), enabled: z.boolean().optional() })
            .loose()
            .nullable()
            .optional(),
        })
        .loose()
        .optional(),
    })
    .loose(),
  operation: z.unknown().optional(),
  status: z
    .object({
      sync: z
        .object({ status: z.string().optional(), revision: z.string().optional(), revisions: z.array(z.string()).optional() })
        .loose()
        .optional(),
      health: HealthStatus.loose().optional(),
      reconciledAt: z.string().optional(),
      operationState: z
        .object({
          phase: z.string().optional(),
          message: z.string().optional(),
          retryCount: z.number().int().optional(),
          startedAt: z.string().optional(),
          finishedAt: z.string().optional(),
          syncResult: z
            .object({
              revision: z.string().optional(),
              revisions: z.array(z.string()).optional(),
              source: ApplicationSource.optional(),
              sources: z.array(ApplicationSource).optional(),
              resources: z
                .array(
                  z
                    .object({
                      kind: z.string().optional(),
                      namespace: z.string().optional(),
                      name: z.string().optional(),
                      status: z.string().optional(),
                      message: z.string().optional(),
                    })
                    .loose(),
                )
                .optional(),
            })
            .loose()
            .optional(),
        })
        .loose()
        .optional(),
      conditions: z
        .array(z.object({ type: z.string(), message: z.string().optional(), lastTransitionTime: z.string().optional() }).loose())
        .optional(),
      resources: z
        .array(
          z
            .object({
              kind: z.string().optional(),
              namespace: z.string().optional(),
              name: z.string().optional(),
              status: z.string().optional(),
              requiresPruning: z.boolean().optional(),
              health: HealthStatus.loose().optional(),
            })
            .loose(),
        )
        .optional(),
    })
    .loose()
    .default({}),
});
export type ArgoApplication = z.infer<typeof ArgoApplication>;

const ResourceNode = z
  .object({
    kind: z.string(),
    namespace: z.string().optional(),
    name: z.string(),
    health: HealthStatus.loose().optional(),
    images: z.array(z.string()).optional(),
  })
  .loose();

export const ResourceTree = z.object({ nodes: z.array(ResourceNode).default([]) }).loose();
export type ResourceTree = z.infer<typeof ResourceTree>;
