import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

/**
 * Webhook payloads checked against @octokit/webhooks-schemas (one JSON schema whose `definitions`
 * hold every event as `<event>$<action>`, or `<event>$event` for events without actions), then
 * signed and handed to a receiver shaped like Probot's `probot.webhooks`.
 */

// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = ajvFormats.default;
const SCHEMA_ID = 'https://simulator.invalid/octokit-webhooks-schema.json';

/** Anything with Probot's `webhooks.verifyAndReceive` (method syntax keeps Probot's narrower `name` type assignable). */
export interface WebhookReceiver {
  verifyAndReceive(delivery: { id: string; name: string; payload: string; signature: string }): Promise<void>;
}

export class WebhookPayloadValidator {
  private readonly ajv: Ajv;
  private readonly definitions: Readonly<Record<string, unknown>>;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    const schema = createRequire(import.meta.url)('@octokit/webhooks-schemas') as { definitions: Record<string, unknown> };
    this.definitions = schema.definitions;
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    this.ajv.addSchema({ ...schema, $id: SCHEMA_ID });
  }

  /** The schema definition of an event: `issue_comment` + `created` → `issue_comment$created`. */
  definitionOf(name: string, payload: unknown): string {
    const action = (payload as { action?: unknown } | null)?.action;
    const candidate = typeof action === 'string' ? `${name}$${action}` : `${name}$event`;
    if (!(candidate in this.definitions))
      throw new Error(`@octokit/webhooks-schemas has no definition "${candidate}" for a "${name}" event`);
    return candidate;
  }

  /** Schema errors of a payload; empty when it is valid. */
  errors(name: string, payload: unknown): string[] {
    const definition = this.definitionOf(name, payload);
    let validate = this.compiled.get(definition);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${SCHEMA_ID}#/definitions/${definition}` });
      this.compiled.set(definition, validate);
    }
    return validate(payload) ? [] : describe(validate.errors);
  }

  assertValid(name: string, payload: unknown): void {
    const errors = this.errors(name, payload);
    if (errors.length > 0) throw new Error(`invalid "${this.definitionOf(name, payload)}" webhook payload:\n  ${errors.join('\n  ')}`);
  }
}

let shared: WebhookPayloadValidator | undefined;

/** One validator per process: compiling the webhook schema is the slow part. */
export function webhookPayloadValidator(): WebhookPayloadValidator {
  shared ??= new WebhookPayloadValidator();
  return shared;
}

/** `sha256=<hex hmac>`, the `X-Hub-Signature-256` GitHub sends. */
export function signPayload(secret: string, payload: string): Promise<string> {
  return sign(secret, payload);
}

/**
 * Validates, serialises and signs a payload, then hands it to the receiver as GitHub's delivery
 * would arrive. Pass `id` to re-deliver under the same `X-GitHub-Delivery` id. Returns the id.
 */
export async function deliverWebhook(
  receiver: WebhookReceiver,
  secret: string,
  name: string,
  payload: unknown,
  options: { id?: string } = {},
): Promise<string> {
  webhookPayloadValidator().assertValid(name, payload);
  const id = options.id ?? randomUUID();
  const text = JSON.stringify(payload);
  await receiver.verifyAndReceive({ id, name, payload: text, signature: await signPayload(secret, text) });
  return id;
}

function describe(errors: ErrorObject[] | null | undefined): string[] {
  // oneOf/anyOf failures repeat every branch's errors; the first dozen say enough.
  return (errors ?? [])
    .slice(0, 12)
    .map(
      (e) =>
        `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}`,
    );
}
