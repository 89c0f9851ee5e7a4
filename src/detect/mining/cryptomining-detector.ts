import type { Detector } from '../detector.js';
import { severityFor } from '../evidence.js';
import { createRuleDetector, type Rule } from '../rule-detector.js';
import type { ScanScratch } from '../scan-scratch.js';

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

// INVARIANT: RE2 syntax, no capturing groups.
/** The cryptomining rules (exported for the prefilter tests). */
export const MINING_RULES: readonly Rule[] = [
  { id: 'miner_binary', type: 'miner_binary', source: '(?i)\\b(?:xmrig(?:-cuda|-opencl|cc)?|xmr-stak(?:-rx)?|cpuminer(?:-multi|-opt|-gr)?|minerd|cgminer|bfgminer|ethminer|nbminer|t-rex|phoenixminer|lolminer|teamredminer|gminer|nanominer|srbminer(?:-multi)?|ccminer|claymore(?:miner)?|nicehashminer|kdevtmpfsi|kinsing|xmr-node-proxy|wildrig(?:-multi)?|bzminer|rigel)\\b', score: 0.85, anchors: ['xmr', 'miner', 'minerd', 't-rex', 'claymore', 'kdevtmpfsi', 'kinsing', 'wildrig', 'rigel'], before: 16 },
  { id: 'miner_flag', type: 'miner_flag', source: '(?i)(?:--donate-level|--cpu-priority|--randomx-1gb-pages|--randomx-mode|--max-cpu-usage|--cpu-max-threads-hint|--nicehash\\b|--coin[= ](?:monero|xmr|ravencoin|rvn|etc|ergo)\\b|(?:-a|--algo)[= ](?:rx/0|rx/wow|randomx|cryptonight|cn/r|cn-heavy|ethash|etchash|kawpow|autolykos2|ghostrider|yescrypt)\\b)', score: 0.8, anchors: ['--donate-level', '--cpu-priority', '--randomx', '--max-cpu-usage', '--cpu-max-threads-hint', '--nicehash', '--coin', '-a=', '-a ', '--algo'], before: 0, after: 48 },
  { id: 'stratum', type: 'stratum_url', source: '(?i)\\bstratum(?:\\+|2\\+)?(?:tcp|ssl|tls)?://[^\\s\'"<>]{1,}', score: 0.95, anchors: ['stratum'], before: 0, after: 16, right: 'token' },
  { id: 'pool_host', type: 'pool_host', source: '(?i)\\b(?:[a-z0-9-]{1,40}\\.){0,3}(?:minexmr|supportxmr|nanopool|2miners|f2pool|ethermine|moneroocean|hashvault|herominers|unmineable|nicehash|c3pool|xmrpool|viabtc|antpool|poolin|slushpool|braiins|miningpoolhub|dwarfpool|minergate|kryptex|zergpool|zpool|woolypooly|hiveon|flexpool|p2pool)\\.(?:com|org|net|pro|io|eu|stream|me|fr|cc)\\b(?::[0-9]{2,5})?', score: 0.85, anchors: ['minexmr', 'supportxmr', 'nanopool', '2miners', 'f2pool', 'ethermine', 'moneroocean', 'hashvault', 'herominers', 'unmineable', 'nicehash', 'c3pool', 'xmrpool', 'viabtc', 'antpool', 'poolin', 'slushpool', 'braiins', 'miningpoolhub', 'dwarfpool', 'minergate', 'kryptex', 'zergpool', 'zpool', 'woolypooly', 'hiveon', 'flexpool', 'p2pool'], before: 132, after: 40 },
  { id: 'monero_wallet', type: 'wallet_address', source: '\\b[48][0-9AB][1-9A-HJ-NP-Za-km-z]{93}\\b', score: 0.7, mask: true, run: { chars: BASE58, min: 95 }, before: 0, after: 2 },
  { id: 'btc_wallet', type: 'wallet_address', source: '\\bbc1[ac-hj-np-z02-9]{25,}\\b', score: 0.45, mask: true, anchors: ['bc1'], before: 0, after: 16, right: 'token' },
  { id: 'mining_cmd', type: 'mining_command', source: '(?i)(?:-o|--url)[= ]{1,2}[a-z0-9.-]{3,}:[0-9]{3,5}\\b[^\\n]{0,}\\s(?:-u|--user)[= ]{1,2}[A-Za-z0-9.]{20,}', score: 0.85, anchors: ['-o', '--url'], before: 0, after: 0, right: 'line' },
];

/**
 * Finds cryptomining in commands, scripts and CI configs: miner binaries and flags, stratum URLs, pool
 * hosts, wallet formats, and `-o pool:port -u wallet` command lines. Two or more kinds together raise
 * every score.
 */
export function createCryptominingDetector(scratch: Partial<Pick<ScanScratch, 'patterns'>> = {}): Detector {
  return createRuleDetector({
    id: 'warden.cryptomining',
    category: 'cryptomining',
    rules: MINING_RULES,
    views: 'raw',
    extra: (_input, found) => {
      const kinds = new Set(found.map((f) => f.type));
      if (kinds.size >= 2) for (const f of found) {
          f.score = Math.min(1, Math.round((f.score + 0.1) * 1000) / 1000);
          f.severity = severityFor(f.score);
        }
      return [];
    },
  }, scratch);
}
