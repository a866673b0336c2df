import { renderHelp } from '../../text/render.js';
import type { WorkflowEnv } from '../context.js';
import { type CommandComment, replyOnce } from '../replies.js';

/** `/upgrade help`. */
export function help(env: WorkflowEnv, event: CommandComment): Promise<void> {
  return replyOnce(env, event, renderHelp(env.messages));
}

/** A command that does not parse: why, and the help. */
export function invalidCommand(env: WorkflowEnv, event: CommandComment, message: string): Promise<void> {
  return replyOnce(env, event, env.messages.say('reply.invalid-command', { message, help: renderHelp(env.messages) }));
}
