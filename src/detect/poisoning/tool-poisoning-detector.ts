import type { Detector } from '../detector.js';
import { createRuleDetector, type Rule } from '../rule-detector.js';
import type { ScanScratch } from '../scan-scratch.js';

const SENSITIVE = '(?:~/\\.ssh|\\.ssh/|id_rsa|id_ed25519|id_ecdsa|\\.aws/credentials|\\.aws/config|\\.env\\b|/etc/passwd|/etc/shadow|mcp\\.json|claude_desktop_config|\\.cursor/|\\.npmrc|\\.netrc|\\.pypirc|\\.git-credentials|\\.kube/config|\\.docker/config\\.json|keychain|private keys?|api[_ ]?keys?|access tokens?|credentials|passwords?|secrets?|cookies|conversation history|chat history|system prompt)';
/** Literals one of which every SENSITIVE match contains: the prefilter of `read_sensitive`. */
const SENSITIVE_ANCHORS = ['.ssh', 'id_rsa', 'id_ed25519', 'id_ecdsa', '.aws/', '.env', '/etc/passwd', '/etc/shadow', 'mcp.json', 'claude_desktop_config', '.cursor/', '.npmrc', '.netrc', '.pypirc', '.git-credentials', '.kube/config', '.docker/config.json', 'keychain', 'private key', 'api', 'access token', 'credentials', 'password', 'secret', 'cookies', 'conversation history', 'chat history', 'system prompt'];

// INVARIANT: RE2 syntax, no capturing groups; run on normalized text.
/** The tool-poisoning rules (exported for the prefilter tests). */
export const POISONING_RULES: readonly Rule[] = [
  { id: 'read_sensitive', type: 'sensitive_file_access', source: `(?i)\\b(?:read|cat|open|load|include|access|fetch|upload|send|attach|pass|provide|extract|copy|get|collect|append|forward|list)\\b[^\\n]{0,}${SENSITIVE}`, score: 0.8, anchors: SENSITIVE_ANCHORS, also: ['read', 'cat', 'open', 'load', 'include', 'access', 'fetch', 'upload', 'send', 'attach', 'pass', 'provide', 'extract', 'copy', 'get', 'collect', 'append', 'forward', 'list'], before: 16, after: 32, left: 'line' },
  { id: 'before_using', type: 'hidden_precondition', source: '(?i)\\b(?:before|prior to|in order to)\\s{1,3}(?:using|calling|invoking|running|executing)\\s{1,3}(?:this|the|any)\\s{1,3}(?:tool|function|server)', score: 0.6, anchors: ['before', 'prior to', 'in order to'], before: 0, after: 64 },
  { id: 'secrecy', type: 'concealment', source: '(?i)\\b(?:do not|don\'t|never|must not|should not|without)\\s{1,3}(?:tell|telling|inform|informing|mention|mentioning|reveal|revealing|alert|alerting|notify|notifying|show|showing|disclose|disclosing)\\s{1,3}(?:this\\s{1,3}(?:to\\s{1,3})?|it\\s{1,3}(?:to\\s{1,3})?|anything\\s{1,3}(?:to\\s{1,3})?)?(?:the\\s{1,3})?(?:user|human|operator|customer|person)', score: 0.85, anchors: ['user', 'human', 'operator', 'customer', 'person'], also: ['not', "don't", 'never', 'without'], before: 80 },
  { id: 'secrecy_keep', type: 'concealment', source: '(?i)\\b(?:keep this (?:secret|hidden|confidential|between us)|the user (?:must not|should not|does not need to|doesn\'t need to|will not) (?:know|see|be told)|(?:silently|quietly|secretly) (?:read|send|call|use|include|add|forward|copy))', score: 0.85, anchors: ['keep this', 'the user', 'silently', 'quietly', 'secretly'], before: 0, after: 64 },
  { id: 'markup', type: 'hidden_instruction_tag', source: '(?i)<\\s{0,2}/?\\s{0,2}(?:important|system|instructions?|secret|hidden|admin|critical|note to (?:the )?(?:ai|assistant|model))\\s{0,2}>', score: 0.7, anchors: ['<'], before: 0, after: 64 },
  { id: 'other_tool', type: 'cross_tool_instruction', source: '(?i)\\b(?:when|whenever|if|after|each time)\\s{1,3}(?:the\\s{1,3})?(?:user|you|agent|assistant|model)\\s{1,3}(?:calls?|uses?|invokes?|runs?)\\s{1,3}(?:the\\s{1,3})?[\\w.-]{1,}\\s{1,3}tool', score: 0.6, anchors: ['tool'], also: ['when', 'if', 'after', 'each time'], before: 72, after: 8, left: 'token' },
  { id: 'redirect', type: 'cross_tool_instruction', source: '(?i)\\b(?:instead of (?:using|calling) (?:the )?[\\w.-]{1,}|(?:change|replace|set) (?:the )?(?:recipient|destination|to address|receiver|bcc|webhook|endpoint) (?:to|with)|send (?:all|every|any) (?:emails?|messages?|files?|data) to|always (?:cc|bcc|copy))', score: 0.75, anchors: ['instead of', 'recipient', 'destination', 'to address', 'receiver', 'bcc', 'webhook', 'endpoint', 'send', 'always'], before: 40, after: 48, right: 'token' },
  { id: 'shadowing', type: 'tool_shadowing', source: '(?i)\\b(?:this tool (?:replaces|overrides|supersedes)|(?:ignore|do not use|never use) (?:the )?(?:other|[\\w.-]{1,}) tools?|must (?:always )?be called (?:first|before))', score: 0.7, anchors: ['this tool', 'ignore', 'do not use', 'never use', 'be called'], before: 12, after: 64, right: 'token' },
];

/**
 * Finds tool poisoning: hidden instructions in tool names, descriptions and schemas (reads of secret
 * files, concealment from the user, instructions aimed at other tools, `<IMPORTANT>` blocks). Full
 * weight on tool descriptions; lower elsewhere, where the same words are more often harmless.
 */
export function createToolPoisoningDetector(scratch: Partial<Pick<ScanScratch, 'patterns'>> = {}): Detector {
  return createRuleDetector({
    id: 'warden.tool_poisoning',
    category: 'tool_poisoning',
    rules: POISONING_RULES,
    views: 'normalized',
    sourceWeight: { tool_description: 1, tool_result: 0.85, prompt: 0.6, tool_args: 0.6 },
  }, scratch);
}
