import type { PatternDef } from '../pattern-set.js';

/** How a matched secret is checked before it is reported. */
export type SecretCheck = 'none' | 'github_crc32' | 'jwt' | 'connection_string' | 'private_key' | 'aws_key_id';

/** A secret format: its RE2 pattern, the finding type, the base score and the structural check. */
export interface SecretRule extends PatternDef {
  readonly score: number;
  readonly check?: SecretCheck;
}

const TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.';

// INVARIANT: no capturing groups (compilePatternSet names one group per rule); bounded quantifiers only.
/** Formats with a fixed shape (prefixes, lengths, checksums); precise enough to report on sight. */
export const SECRET_RULES: readonly SecretRule[] = [
  { id: 'aws_access_key_id', source: '\\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\\b', score: 0.9, check: 'aws_key_id', anchors: ['akia', 'asia', 'abia', 'acca'], before: 0, after: 24 },
  { id: 'aws_secret_access_key', source: '(?i:aws_?secret_?(?:access_?)?key)["\']?\\s*[:=]\\s*["\']?[A-Za-z0-9/+]{40}\\b', score: 0.95, anchors: ['secret'], before: 8, after: 80 },
  { id: 'gcp_api_key', source: '\\bAIza[0-9A-Za-z_-]{35}\\b', score: 0.9, anchors: ['aiza'], before: 0, after: 44 },
  { id: 'gcp_oauth_client_secret', source: '\\bGOCSPX-[A-Za-z0-9_-]{28}\\b', score: 0.95, anchors: ['gocspx-'], before: 0, after: 40 },
  { id: 'azure_storage_key', source: '(?i:AccountKey)=[A-Za-z0-9+/]{86}==', score: 0.95, anchors: ['accountkey='], before: 0, after: 110 },
  { id: 'github_token', source: '\\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\\b', score: 0.8, check: 'github_crc32', anchors: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'], before: 0, after: 44 },
  { id: 'github_fine_grained_pat', source: '\\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\\b', score: 0.97, anchors: ['github_pat_'], before: 0, after: 96 },
  { id: 'gitlab_token', source: '\\b(?:glpat|gldt|glrt|glcbt|glptt|glft|glimt|glagent|gloas)-[A-Za-z0-9_-]{20,}\\b', score: 0.95, anchors: ['glpat-', 'gldt-', 'glrt-', 'glcbt-', 'glptt-', 'glft-', 'glimt-', 'glagent-', 'gloas-'], before: 0, after: 16, right: 'token' },
  { id: 'gitlab_runner_token', source: '\\bGR1348941[A-Za-z0-9_-]{20}\\b', score: 0.95, anchors: ['gr1348941'], before: 0, after: 32 },
  { id: 'npm_token', source: '\\bnpm_[A-Za-z0-9]{36}\\b', score: 0.8, check: 'github_crc32', anchors: ['npm_'], before: 0, after: 44 },
  { id: 'pypi_token', source: '\\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}', score: 0.97, anchors: ['pypi-ageichlwas5vcmc'], before: 0, after: 16, right: 'token' },
  { id: 'circleci_token', source: '\\bCCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}\\b', score: 0.95, anchors: ['ccipat_'], before: 0, after: 80 },
  { id: 'slack_token', source: '\\bxox[baprse]-[0-9]{6,15}-[0-9A-Za-z-]{8,}', score: 0.95, anchors: ['xox'], before: 0, after: 16, right: 'token' },
  { id: 'slack_webhook', source: 'https://hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{40,}', score: 0.95, anchors: ['hooks.slack.com/'], before: 8, after: 16, right: 'token' },
  { id: 'discord_webhook', source: 'https://(?:ptb\\.|canary\\.)?discord(?:app)?\\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,}', score: 0.95, anchors: ['/api/webhooks/'], before: 40, after: 16, right: 'token' },
  { id: 'discord_bot_token', source: '\\b[MNO][A-Za-z0-9_-]{23,25}\\.[A-Za-z0-9_-]{6}\\.[A-Za-z0-9_-]{27,38}\\b', score: 0.75, run: { chars: TOKEN_CHARS, min: 59 }, before: 0, after: 2 },
  { id: 'telegram_bot_token', source: '\\b[0-9]{8,10}:AA[0-9A-Za-z_-]{33}\\b', score: 0.9, anchors: [':aa'], before: 10, after: 40 },
  { id: 'stripe_secret_key', source: '\\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,}\\b', score: 0.95, anchors: ['_live_', '_test_'], before: 2, after: 16, right: 'token' },
  { id: 'stripe_webhook_secret', source: '\\bwhsec_[A-Za-z0-9]{32,}\\b', score: 0.9, anchors: ['whsec_'], before: 0, after: 16, right: 'token' },
  { id: 'square_token', source: '\\b(?:EAAA|sq0atp-|sq0csp-)[A-Za-z0-9_-]{22,}\\b', score: 0.85, anchors: ['eaaa', 'sq0atp-', 'sq0csp-'], before: 0, after: 16, right: 'token' },
  { id: 'paypal_braintree_token', source: '\\baccess_token\\$production\\$[0-9a-z]{16}\\$[0-9a-f]{32}\\b', score: 0.95, anchors: ['access_token$production$'], before: 0, after: 96 },
  { id: 'twilio_api_key', source: '\\bSK[0-9a-f]{32}\\b', score: 0.7, anchors: ['sk'], before: 0, after: 40 },
  { id: 'sendgrid_api_key', source: '\\bSG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}\\b', score: 0.97, anchors: ['sg.'], before: 0, after: 80 },
  { id: 'mailgun_api_key', source: '\\bkey-[0-9a-f]{32}\\b', score: 0.7, anchors: ['key-'], before: 0, after: 40 },
  { id: 'openai_api_key', source: '\\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{16,}T3BlbkFJ[A-Za-z0-9_-]{16,}', score: 0.98, anchors: ['t3blbkfj'], before: 0, after: 0, left: 'token', right: 'token' },
  { id: 'openai_project_key', source: '\\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{80,}', score: 0.95, anchors: ['sk-proj-', 'sk-svcacct-', 'sk-admin-'], before: 0, after: 16, right: 'token' },
  { id: 'anthropic_api_key', source: '\\bsk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{80,}', score: 0.98, anchors: ['sk-ant-'], before: 0, after: 16, right: 'token' },
  { id: 'huggingface_token', source: '\\bhf_[A-Za-z]{34}\\b', score: 0.9, anchors: ['hf_'], before: 0, after: 40 },
  { id: 'groq_api_key', source: '\\bgsk_[A-Za-z0-9]{52}\\b', score: 0.95, anchors: ['gsk_'], before: 0, after: 60 },
  { id: 'xai_api_key', source: '\\bxai-[A-Za-z0-9]{80}\\b', score: 0.95, anchors: ['xai-'], before: 0, after: 88 },
  { id: 'replicate_token', source: '\\br8_[A-Za-z0-9]{37}\\b', score: 0.9, anchors: ['r8_'], before: 0, after: 44 },
  { id: 'google_ai_studio_key', source: '\\bAQ\\.[A-Za-z0-9_-]{50,}\\b', score: 0.6, anchors: ['aq.'], before: 0, after: 16, right: 'token' },
  { id: 'private_key', source: '-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP |SSH2 ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----', score: 0.99, check: 'private_key', anchors: ['-----begin '], before: 0, after: 64 },
  { id: 'jwt', source: '\\beyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{0,}', score: 0.85, check: 'jwt', anchors: ['eyj'], before: 0, after: 16, right: 'token' },
  {
    id: 'connection_string',
    source: '\\b(?i:postgres(?:ql)?|mysql|mariadb|mongodb(?:\\+srv)?|rediss?|amqps?|mssql|sqlserver|jdbc:[a-z]{2,12}|ftps?|sftp|smtps?|ldaps?|clickhouse|cockroachdb|neo4j(?:\\+s)?)://[^\\s:/@\'"<>]{1,}:[^\\s@/\'"<>]{1,}@[^\\s/\'"<>]{1,}',
    score: 0.9,
    anchors: ['://'], also: ['@'], before: 0, after: 0, left: 'token', right: 'token',
    check: 'connection_string',
  },
];

/** Credential-looking assignments (`api_key = "…"`); reported only when the value has high entropy. */
export const GENERIC_SECRET_RULES: readonly SecretRule[] = [
  {
    id: 'generic_secret_assignment',
    source:
      '(?i:api[_-]?key|apikey|secret|token|passw(?:or)?d|passwd|pwd|credentials?|access[_-]?key|private[_-]?key|client[_-]?secret|auth[_-]?key|bearer)[A-Za-z0-9_.-]{0,24}["\']?\\s{0,4}(?::=|=>|[:=])\\s{0,4}["\'`]?[A-Za-z0-9_+/.~=!@#$%^&*-]{12,}',
    score: 0.7,
    anchors: ['api', 'key', 'secret', 'token', 'passw', 'pwd', 'credential', 'bearer'], also: ['=', ':'], before: 16, after: 64, right: 'token',
  },
  { id: 'bearer_token', source: '(?i:authorization)["\']?\\s{0,4}[:=]\\s{0,4}["\']?(?i:bearer|token|basic)\\s{1,4}[A-Za-z0-9_+/.~=-]{16,}', score: 0.8, anchors: ['authorization'], before: 0, after: 48, right: 'token' },
];
