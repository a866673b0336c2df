import { ApiObject, App, Chart, Yaml } from 'cdk8s';
import type { Construct } from 'constructs';

interface BotChartProps {
  readonly namespace: string;
  readonly image: string;
  /** Replicas are safe: no correctness depends on in-memory state. @default 2 */
  readonly replicas?: number;
  /** Secret holding APP_ID, PRIVATE_KEY, WEBHOOK_SECRET, APP_SLUG and optionally ARGOCD_SERVER / ARGOCD_AUTH_TOKEN. */
  readonly secretName?: string;
  /** Run a Redis for Probot's throttling shared across replicas. @default false */
  readonly redis?: boolean;
}

const PORT = 3000;

/**
 * The bot's own Kubernetes objects: a Deployment of the Probot app (non-root, read-only root file
 * system, probes on Probot's /ping), its Service (webhooks and /metrics), and optionally a Redis for
 * throttling shared by the replicas. Secrets are referenced, never generated.
 */
class BotChart extends Chart {
  constructor(scope: Construct, id: string, props: BotChartProps) {
    super(scope, id, { disableResourceNameHashes: true, namespace: props.namespace });
    const labels = { 'app.kubernetes.io/name': 'mesh-upgrade-bot' };
    const secret = props.secretName ?? 'mesh-upgrade-bot';
    const fromSecret = (name: string, optional = false) => ({
      name,
      valueFrom: { secretKeyRef: { name: secret, key: name, ...(optional ? { optional: true } : {}) } },
    });
    new ApiObject(this, 'deployment', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'mesh-upgrade-bot', labels },
      spec: {
        replicas: props.replicas ?? 2,
        selector: { matchLabels: labels },
        template: {
          metadata: {
            labels,
            annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(PORT), 'prometheus.io/path': '/metrics' },
          },
          spec: {
            securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'bot',
                image: props.image,
                ports: [{ name: 'http', containerPort: PORT }],
                env: [
                  { name: 'NODE_ENV', value: 'production' },
                  { name: 'HOST', value: '0.0.0.0' },
                  { name: 'PORT', value: String(PORT) },
                  { name: 'LOG_FORMAT', value: 'json' },
                  fromSecret('APP_ID'),
                  fromSecret('PRIVATE_KEY'),
                  fromSecret('WEBHOOK_SECRET'),
                  fromSecret('APP_SLUG'),
                  fromSecret('ARGOCD_SERVER', true),
                  fromSecret('ARGOCD_AUTH_TOKEN', true),
                  ...(props.redis ? [{ name: 'REDIS_URL', value: 'redis://mesh-upgrade-bot-redis:6379' }] : []),
                ],
                readinessProbe: { httpGet: { path: '/ping', port: 'http' }, periodSeconds: 10 },
                livenessProbe: { httpGet: { path: '/ping', port: 'http' }, periodSeconds: 30, failureThreshold: 3 },
                resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '768Mi' } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              },
            ],
          },
        },
      },
    });
    new ApiObject(this, 'service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'mesh-upgrade-bot', labels },
      spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    new ApiObject(this, 'pdb', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'mesh-upgrade-bot', labels },
      spec: { minAvailable: 1, selector: { matchLabels: labels } },
    });
    if (props.redis) {
      const redisLabels = { 'app.kubernetes.io/name': 'mesh-upgrade-bot-redis' };
      new ApiObject(this, 'redis', {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'mesh-upgrade-bot-redis', labels: redisLabels },
        spec: {
          replicas: 1,
          selector: { matchLabels: redisLabels },
          template: {
            metadata: { labels: redisLabels },
            spec: {
              securityContext: { runAsNonRoot: true, runAsUser: 999 },
              containers: [
                {
                  name: 'redis',
                  image: 'redis:7-alpine',
                  args: ['--save', '', '--appendonly', 'no'],
                  ports: [{ name: 'redis', containerPort: 6379 }],
                  resources: { requests: { cpu: '50m', memory: '64Mi' } },
                },
              ],
            },
          },
        },
      });
      new ApiObject(this, 'redis-service', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'mesh-upgrade-bot-redis', labels: redisLabels },
        spec: { selector: redisLabels, ports: [{ name: 'redis', port: 6379, targetPort: 'redis' }] },
      });
    }
  }
}

/** The committed manifests in deploy/: file name → YAML. */
export function synthesizeDeploy(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [file, redis] of [
    ['mesh-upgrade-bot.yaml', false],
    ['mesh-upgrade-bot-with-redis.yaml', true],
  ] as const) {
    const chart = new BotChart(new App(), 'bot', {
      namespace: 'mesh-upgrade-bot',
      image: 'ghcr.io/example-org/mesh-upgrade-bot:0.1.0',
      redis,
    });
    files.set(
      file,
      `# Generated by \`npm run deploy:synth\` from src/deploy/bot-chart.ts; edit that, not this.\n${Yaml.stringify(...chart.toJson())}`,
    );
  }
  return files;
}
