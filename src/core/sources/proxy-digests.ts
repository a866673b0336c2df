import { parseImageReference } from '../../model/image-reference.js';
import { describe, podTemplateOf, WORKLOAD_KINDS } from '../../model/kube.js';
import type { PlanContext } from '../phases/context.js';

/**
 * Sidecars written into manifests with a `proxyv2` image pinned by digest alone: their release is
 * unknown (a digest names no version), so the proxy-skew check cannot judge them. Warned, never refused.
 */
export function warnDigestOnlySidecars(ctx: PlanContext): void {
  for (const kind of WORKLOAD_KINDS) {
    for (const object of ctx.index.ofKind(kind)) {
      const template = podTemplateOf(object.body);
      if (/gateway$/.test(template.labels.istio ?? '')) continue;
      const proxy = template.containers.find((c) => c.name === 'istio-proxy');
      if (typeof proxy?.image !== 'string') continue;
      const ref = parseImageReference(proxy.image);
      if (ref.repository !== 'proxyv2' || ref.tag !== null || ref.digest === null) continue;
      ctx.warn({
        code: 'proxy-version-unknown',
        message: `${describe(object)} pins its istio-proxy by digest only (${proxy.image}): its release is unknown, so the bot cannot check it is within two minors of ${ctx.to.version ?? ctx.to.name}. Check it, and regenerate it with istioctl kube-inject --revision ${ctx.to.name}.`,
        file: object.file,
      });
    }
  }
}
