import type { PatternDef } from '../pattern-set.js';

/** A rule scoring at least this decides on its own; weaker rules are features and spans for the model. */
export const STRONG_RULE = 0.85;

/** An injection rule: an RE2 pattern over normalized text, the finding type and its score alone. */
export interface InjectionRule extends PatternDef {
  readonly type: string;
  /** Score when the rule fires on its own; the model's score is combined with it. */
  readonly score: number;
}

const W = '[\\s,.:;"\'*_-]{1,6}';
const OPT = '(?:all|any|the|your|my|of|these|those|this|every|previous|prior|above|earlier|preceding|former|initial|original|existing|other|current|given|system|developer|safety|content)';

/** The instruction override in one language: a strong rule `override_<lang>` over the given alternatives. */
function translatedOverride(lang: string, anchors: readonly string[], alternatives: readonly string[]): InjectionRule {
  return { id: `override_${lang}`, type: 'instruction_override', source: `(?i)\\b(?:${alternatives.join('|')})\\b`, score: 0.9, anchors, before: 0, after: 112 };
}

// INVARIANT: RE2 syntax, case-insensitive via (?i), no capturing groups, bounded repetition.
/** Phrases that steer a model away from its instructions; each is also a feature of the model. */
export const INJECTION_RULES: readonly InjectionRule[] = [
  {
    id: 'override',
    type: 'instruction_override',
    source: `(?i)\\b(?:ignore|disregard|forget|skip|override|bypass|neglect|abandon|drop|discard)${W}(?:${OPT}${W}){0,4}(?:previous|prior|above|earlier|preceding|former|initial|original|system|developer|safety|existing|old)${W}(?:${OPT}${W}){0,2}(?:instructions?|prompts?|rules|directions?|directives?|guidelines|guidance|context|messages?|commands?|orders|constraints|restrictions|programming|policies|training)`,
    score: 0.92,
    anchors: ['ignore', 'disregard', 'forget', 'skip', 'override', 'bypass', 'neglect', 'abandon', 'drop', 'discard'], also: ['instruction', 'prompt', 'rules', 'direction', 'directive', 'guideline', 'guidance', 'context', 'message', 'command', 'orders', 'constraints', 'restrictions', 'programming', 'polic', 'training'], before: 0, after: 192,
  },
  { id: 'override_everything', type: 'instruction_override', source: `(?i)\\b(?:ignore|disregard|forget)${W}(?:everything|all)${W}(?:(?:you|i)${W}(?:were|was|have been)${W}(?:told|given|said)|(?:above|before|prior|so far))`, score: 0.9, anchors: ['ignore', 'disregard', 'forget'], also: ['everything', 'all'], before: 0, after: 96 },
  // The same override in the languages agents most often read besides English (normalized text has no accents);
  // one rule per language, as one alternation over all six outgrew the linear matcher's program size (it fell back
  // to re2-wasm, five times slower per window).
  translatedOverride('de', ['ignor', 'vergiss', 'vergessen', 'missachte'], [
    '(?:ignorier(?:e|en sie)?|vergiss|vergessen sie|missachte(?:n sie)?)' + W + '(?:bitte' + W + ')?(?:(?:alle|samtliche|deine|ihre|die|der|den|bisher)' + W + '){0,2}(?:vorherigen|bisherigen|obigen|vorigen|vorangegangenen|fruheren|ursprunglichen|alten|gegebenen)' + W + '(?:anweisungen|instruktionen|befehle|regeln|vorgaben|anordnungen)',
    // "Forget everything before / you were told", as override_everything says it in English.
    '(?:vergiss|ignoriere|vergessen sie|ignorieren sie)' + W + 'alles,?' + W + '(?:davor|zuvor|vorher|bisherige|oben|was (?:du|dir|ihnen|ich|wir) (?:gesagt|erzahlt|beigebracht|mitgeteilt|gegeben))',
  ]),
  translatedOverride('fr', ['ignor', 'oubli'], [
    '(?:ignore[sz]?|oublie[sz]?)' + W + "(?:s'il (?:te|vous) plait" + W + ')?(?:toutes' + W + '|tout' + W + ')?(?:les|tes|vos)' + W + '(?:instructions|consignes|regles|directives)' + W + "(?:precedentes|anterieures|ci-dessus|initiales|d'origine)",
    '(?:oublie[sz]?|ignore[sz]?)' + W + 'tout' + W + 'ce' + W + 'qui' + W + "(?:precede|a ete dit|t'a ete dit|vous a ete dit)",
  ]),
  translatedOverride('es', ['ignor', 'olvid'], [
    '(?:ignora|ignore|olvida|olvide)' + W + '(?:por favor' + W + ')?(?:todas' + W + ')?(?:las|tus|sus)' + W + '(?:instrucciones|indicaciones|reglas|ordenes|directrices)' + W + '(?:anteriores|previas|iniciales|originales)',
    '(?:olvida|ignora|olvide|ignore)' + W + 'todo' + W + 'lo' + W + '(?:anterior|que te (?:dije|han dicho|dijeron)|que se te ha dicho)',
  ]),
  translatedOverride('it', ['ignor', 'dimentica'], [
    '(?:ignora|ignorate|dimentica|dimenticate)' + W + '(?:per favore' + W + ')?(?:tutte' + W + ')?(?:le' + W + ')?(?:istruzioni|regole|indicazioni)' + W + '(?:precedenti|iniziali|originali)',
    '(?:dimentica|ignora|dimenticate|ignorate)' + W + 'tutto' + W + '(?:quello che ti e stato detto|cio che precede|quanto detto prima)',
  ]),
  translatedOverride('pt', ['ignor', 'esqueca'], [
    '(?:ignore|ignora|esqueca)' + W + '(?:todas' + W + ')?(?:as' + W + ')?(?:instrucoes|regras|orientacoes)' + W + '(?:anteriores|previas|iniciais|originais)',
    '(?:esqueca|ignore)' + W + 'tudo' + W + '(?:o que foi dito|acima|o que lhe foi dito|o que te disseram)',
  ]),
  translatedOverride('nl', ['negeer', 'vergeet'], [
    '(?:negeer|vergeet)' + W + '(?:alle' + W + ')?(?:de' + W + '|je' + W + ')?(?:vorige|eerdere|voorgaande|oorspronkelijke)' + W + '(?:instructies|regels|opdrachten)',
    '(?:vergeet|negeer)' + W + 'alles' + W + '(?:hierboven|wat (?:je|u) (?:is verteld|hebt gekregen))',
  ]),
  { id: 'new_instructions', type: 'instruction_override', source: '(?i)\\b(?:new|updated|real|actual|revised|true|secret|hidden|additional)\\s{1,3}(?:system\\s{1,3})?(?:instructions?|task|directive|orders)\\s{0,3}[:!-]', score: 0.75, anchors: ['instruction', 'task', 'directive', 'orders'], also: ['new', 'updated', 'real', 'actual', 'revised', 'true', 'secret', 'hidden', 'additional'], before: 40, after: 24 },
  { id: 'from_now_on', type: 'instruction_override', source: '(?i)\\bfrom now on,?\\s{1,3}(?:you|your|u)\\b[^.\\n]{0,}\\b(?:will|must|are|shall|respond|answer|act|reply)', score: 0.55, anchors: ['from now on'], before: 0, right: 'line' },
  { id: 'dan', type: 'jailbreak', source: '(?i)\\b(?:do anything now|dan mode|anti-?dan|evil-?bot|unfiltered (?:ai|mode|assistant|response)|chaos mode|opposite mode|stan prompt)\\b', score: 0.85, anchors: ['do anything now', 'dan mode', 'antidan', 'anti-dan', 'evilbot', 'evil-bot', 'unfiltered ', 'chaos mode', 'opposite mode', 'stan prompt'], before: 8, after: 32 },
  // Words that name a jailbreak are as common in questions about one (NotInject): a feature and a span, not a verdict.
  { id: 'jailbreak_terms', type: 'jailbreak', source: '(?i)\\b(?:developer mode|dev mode|jailbr(?:ea|o)k(?:en|ed)?|god ?mode)\\b', score: 0.6, anchors: ['developer mode', 'dev mode', 'jailbr', 'god mode', 'godmode'], before: 0, after: 16 },
  { id: 'no_restrictions', type: 'jailbreak', source: '(?i)\\b(?:without|no|free (?:of|from)|ignor(?:e|ing)|not bound by|(?:doesn\'?t|does not|don\'?t|do not|never|won\'?t|will not|can\'?t) (?:have|follow|adhere to|care about|abide by|comply with|obey))\\s{1,3}(?:any\\s{1,3}|the\\s{1,3}|your\\s{1,3}|their\\s{1,3})?(?:restrictions|filters?|filtering|limitations|limits|censorship|guidelines|ethical (?:guidelines|constraints|principles)|moral(?:s| (?:guidelines|constraints))|rules|content polic(?:y|ies)|openai(?:\'s)? polic(?:y|ies)|safeguards|boundaries)\\b', score: 0.6, anchors: ['restriction', 'filter', 'limit', 'censorship', 'guidelines', 'ethical', 'moral', 'rules', 'polic', 'safeguards', 'boundaries'], before: 64, after: 40 },
  { id: 'persona', type: 'jailbreak', source: '(?i)\\b(?:you are|you\'re|act as|pretend (?:to be|you are)|roleplay as|simulate|you will be|become)\\s{1,3}(?:now\\s{1,3})?(?:an?\\s{1,3})?(?:unrestricted|unfiltered|uncensored|amoral|unethical|evil|rogue|jailbroken|unlimited|unbound)\\b', score: 0.8, anchors: ['unrestricted', 'unfiltered', 'uncensored', 'amoral', 'unethical', 'evil', 'rogue', 'jailbroken', 'unlimited', 'unbound'], also: ['you are', "you're", 'act as', 'pretend', 'roleplay', 'simulate', 'you will be', 'become'], before: 40, after: 16 },
  { id: 'stay_in_character', type: 'jailbreak', source: '(?i)\\b(?:stay in character|break character|never refuse|must not refuse|cannot refuse|will not refuse|don\'t refuse|never (?:say|tell) (?:that )?(?:you )?(?:can\'?t|cannot)|as an ai language model)\\b', score: 0.55, anchors: ['character', 'refuse', 'never say', 'never tell', 'as an ai language model'], before: 24, after: 48 },
  // `\b` only before the word alternatives: before `(` it needs a word char to the left, which left the
  // `(normal output)` form dead. The 🔒/🔓 markers are not matchable (patterns see astral chars as U+FFFD).
  { id: 'two_responses', type: 'jailbreak', source: '(?i)(?:\\b(?:two (?:different )?(?:responses|answers|paragraphs)|classic response|jailbreak response)|\\((?:normal|developer mode) output\\))', score: 0.5, anchors: ['two ', '(normal', '(developer', 'classic response', 'jailbreak response'], before: 2, after: 48 },
  {
    id: 'extract',
    type: 'prompt_extraction',
    source: '(?i)\\b(?:reveal|show|print|repeat|output|display|leak|dump|give|tell|list|write|recite|spell)\\s{1,3}(?:me\\s{1,3}|us\\s{1,3})?(?:out\\s{1,3})?(?:all\\s{1,3}|exactly\\s{1,3})?(?:your|the|its|my|any)\\s{1,3}(?:(?:full|entire|complete|exact|original|initial|hidden|secret|system|internal|first|previous|developer)\\s{1,3}){1,3}(?:prompt|instructions?|message|rules|directives|guidelines|configuration|context)',
    score: 0.85,
    anchors: ['prompt', 'instruction', 'message', 'rules', 'directives', 'guidelines', 'configuration', 'context'], also: ['reveal', 'show', 'print', 'repeat', 'output', 'display', 'leak', 'dump', 'give', 'tell', 'list', 'write', 'recite', 'spell'], before: 120, after: 16,
  },
  { id: 'extract_above', type: 'prompt_extraction', source: '(?i)\\b(?:repeat|print|output|reproduce|copy|translate|summari[sz]e)\\s{1,3}(?:all\\s{1,3}|the\\s{1,3})?(?:text|words|instructions|content|everything|sentences)\\s{1,3}(?:above|before this|preceding|that came before|you were given|at the (?:beginning|start))', score: 0.8, anchors: ['above', 'before this', 'preceding', 'came before', 'you were given', 'at the beginning', 'at the start'], also: ['repeat', 'print', 'output', 'reproduce', 'copy', 'translate', 'summari'], before: 64, after: 20 },
  { id: 'what_instructions', type: 'prompt_extraction', source: '(?i)\\bwhat (?:are|were|is)\\s{1,3}(?:your|the)\\s{1,3}(?:(?:initial|original|system|hidden|secret|first)\\s{1,3})+(?:prompt|instructions?|rules|directives)', score: 0.8, anchors: ['what '], also: ['prompt', 'instruction', 'rules', 'directives'], before: 0, after: 128 },
  { id: 'chat_markup', type: 'indirect', source: '(?i)(?:<\\|(?:im_start|im_end|system|endoftext)\\|>|\\[/?INST\\]|<</?SYS>>|\\n\\s{0,4}#{2,4}\\s{0,2}(?:system|instruction|new instructions?)\\b|\\n\\s{0,4}(?:system|assistant)\\s{0,2}:\\s)', score: 0.75, anchors: ['<|', '[inst]', '[/inst]', '<<sys>>', '<</sys>>', '##', 'system', 'assistant'], also: [':', '#', '|', '[', '<'], before: 12, after: 32 },
  { id: 'addressed_to_ai', type: 'indirect', source: '(?i)\\b(?:if you are an? (?:ai|llm|language model|assistant|agent|bot)|(?:attention|note|important|instructions?)\\s{0,2}(?:to|for)\\s{1,3}(?:the\\s{1,3})?(?:ai|llm|assistant|model|agent|chatbot|gpt)|ai (?:assistant|agent)s? reading this|dear (?:ai|assistant|llm|model|agent))\\b', score: 0.85, anchors: ['if you are', 'attention', 'note', 'important', 'instruction', 'reading this', 'dear'], also: ['ai', 'llm', 'language model', 'assistant', 'agent', 'bot', 'model', 'gpt'], before: 32, after: 48 },
  { id: 'hide_from_user', type: 'indirect', source: '(?i)\\b(?:do not|don\'t|never|without)\\s{1,3}(?:tell(?:ing)?|inform(?:ing)?|mention(?:ing)?|notify(?:ing)?|reveal(?:ing)?|alert(?:ing)?|show(?:ing)?)\\s{1,3}(?:this\\s{1,3}(?:to\\s{1,3})?)?(?:the\\s{1,3})?(?:user|human|operator|customer)', score: 0.8, anchors: ['user', 'human', 'operator', 'customer'], also: ['not', "don't", 'never', 'without'], before: 72, after: 12 },
];
