/**
 * User-supplied text shown back in a reply, as inline code: bounded, one line, and reduced to
 * characters that cannot open a mention, an HTML tag or comment, a link or another code span.
 * Everything a person typed (or committed) goes through here before the bot writes it.
 */
export function inlineCode(text: string, maxLength = 63): string {
  const safe = text.replace(/[^A-Za-z0-9._:=/+,-]/g, '?');
  const clipped = safe.length > maxLength ? `${safe.slice(0, maxLength - 1)}…` : safe;
  return `\`${clipped || '?'}\``;
}

/** Kubernetes names (namespaces, clusters) and Istio revision names: a DNS-1123 label. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Free text that names things from the repo or the cluster (file, object and image names, Argo CD
 * and GitHub messages), shown as Markdown prose: no mention (`@` is followed by a zero-width space),
 * no HTML tag or comment (likewise `<`), no code fence.
 */
export function plainText(text: string): string {
  return text
    .replace(/@(?=[A-Za-z0-9_-])/g, '@\u200b')
    .replace(/<(?=[A-Za-z!/?])/g, '<\u200b')
    .replace(/`{3,}/g, (fence) => fence.split('').join('\u200b'));
}

/** A line inside a fenced code block: mentions and HTML do not render there, but a fence would end it. */
export function codeLine(text: string): string {
  return text.replace(/`{3,}/g, (fence) => fence.split('').join('\u200b')).replace(/~{3,}/g, (fence) => fence.split('').join('\u200b'));
}
