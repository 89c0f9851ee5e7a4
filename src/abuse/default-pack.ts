import type { AbuseRuleSource } from './rule-compile.js';

/**
 * The default abuse rule pack (docs/abuse-default-pack.md): one YAML file per rule family, every rule
 * in shadow mode, so a fresh install records what the rules would have done and changes nothing.
 * To enforce a rule, copy it into your own rules directory under another name with `mode: enforce`.
 *
 * Rules that label an agent or a session do not fire again while the entity holds their label, so in
 * enforce mode one episode gives one label and one case; in shadow mode nothing is labelled, so every
 * event past the threshold records a shadowed verdict.
 */

/** Tools that publish content somewhere others read it (globs over `server.tool`, case-folded). */
const CONTENT_TOOLS = '["*.create*", "*.*_create*", "*.post", "*.post_*", "*.*_post_*", "*.send*", "*.*_send*", "*.comment*", "*.*_comment*", "*.publish*", "*.*_publish*"]';

const CRYPTOMINING = String.raw`# Cryptomining: a miner started through a tool, and exec load that goes on and on.
apiVersion: warden.dev/v1
kind: AbuseRule
metadata:
  name: cryptomining-command
  description: A tool call that starts a cryptocurrency miner or points one at a mining pool.
spec:
  mode: shadow
  synchronous: true
  category: cryptomining
  severity: critical
  match: { actions: [tool.call] }
  # Strong evidence only: a cryptomining finding of score 0.9 or more (a stratum URL, or two kinds of
  # mining signal together; a miner's name alone scores 0.85), or arguments that hold a stratum URL,
  # xmrig's --donate-level flag, a pool host with a port, or a miner binary run as a command (its
  # name followed by a flag, or alone on a line). A miner named in prose or a commit message is not.
  when: |-
    findings.exists(f, f.category == "cryptomining" && f.score >= 0.9)
    || text.re2Matches(r"(?i)\bstratum\+(?:tcp|ssl|tls)://")
    || text.re2Matches(r"(?i)(?:^|\s)--donate-level\b")
    || text.re2Matches(r"(?i)\b(?:supportxmr|nanopool|2miners|hashvault|f2pool|minexmr|moneroocean|herominers|unmineable|c3pool)\.(?:com|org|net|pro|io|stream):[0-9]{2,5}\b")
    || text.re2Matches(r"(?im)(?:^|[\s/;&|(=])(?:xmrig|xmr-stak|cpuminer(?:-[a-z]+)?|minerd|ethminer|nbminer|lolminer|t-rex|gminer|phoenixminer)(?:\.exe)?\s+--?[a-z]")
    || text.re2Matches(r"(?im)^\s*(?:\S*/)?(?:xmrig|xmr-stak|cpuminer(?:-[a-z]+)?|minerd|ethminer|nbminer|lolminer|t-rex|gminer|phoenixminer)(?:\.exe)?\s*$")
  verdicts:
    - deny: { for: 1h }
    - label: { name: miner, for: 1d }
    - kill: {}
    - review: { propose: [{ suspend: {} }] }
  reason: the agent tried to start a cryptocurrency miner or connect to a mining pool
---
apiVersion: warden.dev/v1
kind: AbuseRule
metadata:
  name: sustained-exec
  description: An agent that runs commands without pause, the load a hidden miner or a loop leaves.
spec:
  mode: shadow
  category: cryptomining
  severity: medium
  on: [tool.call.decided]
  match: { actions: [tool.call], effects: [allow] }
  features:
    # The allowed calls to tools that can execute, per agent. A count feature counts every event the
    # rule reads, so this counts distinct event ids of exec calls and records nothing for the rest.
    execs: { distinct: agent, of: 'has(tool.capabilities) && "exec" in tool.capabilities ? event.id : null', window: 10m }
  # 120 in 10 minutes is one command every 5 seconds for 10 minutes: more than a person drives, and
  # more than an agent's build-and-test loop needs.
  when: |-
    has(tool.capabilities) && "exec" in tool.capabilities
    && features.execs >= 120
    && !("sustained-exec" in agent.labels)
  verdicts:
    - label: { name: sustained-exec, connotation: neutral, for: 1h }
    - review: { propose: [{ throttle: { limit: 20, window: 1m, for: 1h } }] }
  reason: the agent ran 120 or more commands in 10 minutes
`;

const SPAM = String.raw`# Spam and bulk content: the same post over and over, and posts that mention crowds.
apiVersion: warden.dev/v1
kind: AbuseRule
metadata:
  name: bulk-duplicate-creates
  description: An agent that creates the same thing, with the same arguments, again and again.
spec:
  mode: shadow
  category: spam
  severity: medium
  on: [tool.call.decided]
  match: { actions: [tool.call], tools: ${CONTENT_TOOLS}, effects: [allow] }
  features:
    creates: { count: agent, window: 10m }
    # Calls without arguments count as one variant.
    variants: { distinct: agent, of: 'has(event.argsDigest) ? event.argsDigest : "no-arguments"', window: 10m }
  # 20 or more creates in 10 minutes with at most one distinct argument set per 4 calls.
  when: |-
    features.creates >= 20
    && features.variants * 4 <= features.creates
    && !("bulk-duplicates" in agent.labels)
  verdicts:
    - label: { name: bulk-duplicates, for: 1h }
    - review: { propose: [{ throttle: { limit: 5, window: 1m, for: 1h } }] }
  reason: the agent created 20 or more items in 10 minutes, mostly with identical arguments
---
apiVersion: warden.dev/v1
kind: AbuseRule
metadata:
  name: near-duplicate-posts
  description: An agent that posts one template with small changes (a number, a link, spacing).
spec:
  mode: shadow
  synchronous: true
  category: spam
  severity: medium
  match: { actions: [tool.call], tools: ${CONTENT_TOOLS} }
  features:
    posts: { count: agent, window: 10m }
    # fingerprint: lower-cased, digits as #, URL paths dropped, punctuation and spacing folded.
    templates: { distinct: agent, of: 'size(text) >= 16 ? fingerprint : null', window: 10m }
  when: |-
    size(text) >= 16
    && features.posts >= 15
    && features.templates <= 3
    && !("near-duplicates" in agent.labels)
  verdicts:
    - label: { name: near-duplicates, for: 1h }
    - review: { propose: [{ throttle: { limit: 5, window: 1m, for: 1h } }] }
  reason: the agent posted 15 or more items in 10 minutes from at most 3 templates
---
apiVersion: warden.dev/v1
kind: AbuseRule
metadata:
  name: mass-mentions
  description: A post that mentions 20 or more people or teams.
spec:
  mode: shadow
  synchronous: true
  category: spam
  severity: medium
  match: { actions: [tool.call], tools: ${CONTENT_TOOLS} }
  # A mention is an @ at the start or after a space or ( , ; : < followed by a name character; the @
  # of an e-mail address follows a letter, so address lists do not count.
  when: |-
    text.re2Matches(r"(?:[\s\S]*?(?:^|[\s(,;:<])@[A-Za-z0-9_]){20}")
    && !("mass-mentions" in agent.labels)
  verdicts:
    - label: { name: mass-mentions, for: 1h }
    - review: { propose: [{ throttle: { limit: 5, window: 1m, for: 1h } }] }
  reason: the agent posted content that mentions 20 or more accounts
`;

const RUNAWAY = String.raw`# Runaway agents: a sudden burst of calls, and a sudden spread over many tools.
apiVersion: warden.dev/v1
kind: AbuseRule
metadata:
  name: call-rate-spike
  description: An agent whose last minute holds 10 times its usual rate and at least one call a second.
spec:
  mode: shadow
  category: runaway
  severity: high
  features:
    minute: { count: agent, window: 1m }
    hour: { count: agent, window: 1h }
  # The baseline is the rest of the hour: (hour - minute) / 60 calls a minute. The last minute is 10
  # times that when minute >= 10 * (hour - minute) / 60, that is when 7 * minute >= hour. An agent
  # steady at r calls a minute has hour = r * t after t minutes, so it fires only while t <= 7: a
  # steady 70-a-minute agent stops firing after its 7th minute and never fires again at that rate.
  when: |-
    features.minute >= 60
    && features.minute * 7 >= features.hour
    && !("runaway" in agent.labels)
  verdicts:
    - label: { name: runaway, for: 1h }
    - review: { propose: [{ kill: {} }, { deny: { for: 15m } }] }
  reason: the agent made 60 or more calls in a minute, 10 times its rate over the hour
---
apiVersion: warden.dev/v1
kind: AbuseRule
metadata:
  name: new-destinations
  description: An agent with a day of history that suddenly spreads over many more tools than it uses.
spec:
  mode: shadow
  category: runaway
  severity: medium
  on: [tool.call.decided]
  match: { actions: [tool.call] }
  features:
    tools: { distinct: agent, of: 'tool.server + "." + tool.name', window: 10m }
    calls: { count: agent, window: 1d }
    # 10-minute slots of the day the agent was active in, and (slot, tool) pairs: pairs / slots is
    # how many tools it usually touches in 10 minutes.
    slots: { distinct: agent, of: 'event.time.substring(0, 15)', window: 1d }
    slotTools: { distinct: agent, of: 'event.time.substring(0, 15) + " " + tool.server + "." + tool.name', window: 1d }
  # Windows all end now, so "tools never used before" cannot be counted; this compares breadth
  # instead: 8 or more tools in the last 10 minutes and at least 3 times the agent's usual tools per
  # 10 minutes (tools * slots >= 3 * slotTools), after 200 calls in at least 6 slots of history. An
  # agent that uses the same 8 tools all day has slotTools = 8 * slots and never fires.
  when: |-
    features.tools >= 8
    && features.calls >= 200
    && features.slots >= 6
    && features.tools * features.slots >= 3 * features.slotTools
    && !("new-destinations" in agent.labels)
  verdicts:
    - label: { name: new-destinations, connotation: neutral, for: 1h }
    - review: { propose: [{ throttle: { limit: 10, window: 1m, for: 1h } }] }
  reason: the agent suddenly called 8 or more tools in 10 minutes, 3 times as many as it usually does
`;

const CREDENTIAL_ABUSE = String.raw`# Credential abuse: many refused credentials or refused calls from one address.
apiVersion: warden.dev/v1
kind: AbuseRule
metadata:
  name: auth-failures
  description: One IP address with 30 or more failed or refused authentications in 10 minutes.
spec:
  mode: shadow
  category: credential_abuse
  severity: high
  # auth.token.failed: a token that did not authenticate. auth.route.denied and auth.decide.refused:
  # a credential that tried what it may not (route probing, asserting another principal).
  # gateway.session.refused is left out: it is a session limit, which a reconnecting agent hits.
  on: [auth.token.failed, auth.route.denied, auth.decide.refused]
  features:
    failures: { count: ip, window: 10m }
  # Fires as the count crosses 30 (it grows by one an event), once per episode: labels on an IP are
  # not readable in a condition, so this is how repeated cases are avoided.
  when: features.failures >= 30 && features.failures < 31
  verdicts:
    - label: { entity: ip, name: credential-stuffing, for: 1h }
    - review: { entity: ip, propose: [{ deny: { for: 1h } }] }
  reason: 30 or more failed or refused authentications from one IP address in 10 minutes
`;

const EXFILTRATION = String.raw`# Exfiltration chains: a session that read secrets or sensitive personal data reaches the network.
apiVersion: warden.dev/v1
kind: AbuseRule
metadata:
  name: secret-read
  description: Marks a session that handled a secret or sensitive personal data, for an hour.
spec:
  mode: shadow
  category: exfiltration
  severity: low
  on: [finding.detected]
  # Secrets of score 0.8 or more; of personal data only card numbers, social security numbers and
  # IBANs (names, e-mail and IP addresses turn up in most documents and logs).
  when: |-
    findings.exists(f, (f.category == "secret" && f.score >= 0.8)
      || (f.category == "pii" && f.type in ["CREDIT_CARD", "US_SSN", "IBAN_CODE"]))
  verdicts:
    - label: { entity: session, name: sensitive-read, connotation: neutral, for: 1h }
  reason: a secret or sensitive personal data passed through the session
---
apiVersion: warden.dev/v1
kind: AbuseRule
metadata:
  name: exfil-after-sensitive-read
  description: A call to a tool that reaches the network, in a session that handled a secret.
spec:
  mode: shadow
  synchronous: true
  category: exfiltration
  severity: high
  match: { actions: [tool.call] }
  when: |-
    "sensitive-read" in session.labels
    && has(tool.capabilities) && "network" in tool.capabilities
  # The session is barred (the agent may start a clean one); the case proposes barring the agent.
  verdicts:
    - deny: { entity: session, for: 1h }
    - review: { propose: [{ deny: { for: 1h } }] }
  reason: a tool that reaches the network was called in a session that handled a secret or sensitive personal data
`;

const TOOL_POISONING = String.raw`# Tool poisoning follow-through: an agent that read hidden instructions, then acts.
apiVersion: warden.dev/v1
kind: AbuseRule
metadata:
  name: poisoned-tool-seen
  description: Marks an agent that was shown a poisoned tool description or result, for an hour.
spec:
  mode: shadow
  category: tool_poisoning
  severity: medium
  # registry.tool.poisoned carries findings too, but the registry discovers tools as itself: it names
  # no agent to label (and blocks the tool before any agent sees it).
  on: [finding.detected]
  when: agent.id != "" && findings.exists(f, f.category == "tool_poisoning" && f.score >= 0.5)
  verdicts:
    - label: { name: saw-poisoned-tool, connotation: neutral, for: 1h }
  reason: the agent was shown hidden instructions in a tool description or result
---
apiVersion: warden.dev/v1
kind: AbuseRule
metadata:
  name: poisoned-follow-through
  description: A powerful call by an agent that was shown hidden instructions in the last hour.
spec:
  mode: shadow
  synchronous: true
  category: tool_poisoning
  severity: high
  match: { actions: [tool.call] }
  # The label it gives keeps it to one case an hour per agent.
  when: |-
    "saw-poisoned-tool" in agent.labels
    && !("poisoned-follow-through" in agent.labels)
    && ((has(tool.capabilities) && tool.capabilities.exists(c, c in ["exec", "filesystem", "network"]))
      || tool.name.re2Matches(r"(?i)read_?[a-z_]*file|exec|send|transfer"))
  verdicts:
    - label: { name: poisoned-follow-through, connotation: neutral, for: 1h }
    - review: { propose: [{ deny: { for: 1h } }] }
  reason: an agent shown hidden instructions went on to call a tool that can execute, touch files, reach the network or move data
`;

/** The default pack, as `loadAbuseSources` reads it (the server loads it unless `--no-abuse-default-pack`). */
export const DEFAULT_PACK: readonly AbuseRuleSource[] = Object.freeze([
  { file: 'default-pack/cryptomining.yaml', text: CRYPTOMINING },
  { file: 'default-pack/spam.yaml', text: SPAM },
  { file: 'default-pack/runaway.yaml', text: RUNAWAY },
  { file: 'default-pack/credential-abuse.yaml', text: CREDENTIAL_ABUSE },
  { file: 'default-pack/exfiltration.yaml', text: EXFILTRATION },
  { file: 'default-pack/tool-poisoning.yaml', text: TOOL_POISONING },
]);
