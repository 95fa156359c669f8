/**
 * Pattern families for jailbreaks and prompt injection: instruction override, system-prompt extraction, fake
 * conversation turns and chat-template tokens, mode switches, role-play personas (DAN and kin), refusal suppression,
 * and — for untrusted documents only — text that addresses the assistant. Each family has a weight (how strongly
 * one match alone suggests an attack); families combine by noisy-OR, so several weak signals add up while one
 * ambiguous phrase ("pretend you are a pirate") stays below a sensible threshold.
 *
 * All patterns run on a normalised copy (NFKC, lower case, whitespace collapsed, first 16,000 characters, so that
 * offsets map back 1:1 only when normalisation kept the length; spans are reported against the normalised text
 * when it did not). They use bounded gaps (`[^.\n]{0,40}`) and no nested quantifiers: linear time.
 */

export type PatternFamily =
  | 'instruction_override'
  | 'system_prompt_extraction'
  | 'fake_turn'
  | 'template_token'
  | 'mode_switch'
  | 'persona'
  | 'restriction_removal'
  | 'refusal_suppression'
  | 'policy_reference'
  | 'dual_response'
  | 'addressed_to_assistant'
  | 'exfiltration';

export interface AttackPattern {
  family: PatternFamily;
  weight: number;
  pattern: RegExp;
  /** Which detectors use it. */
  detectors: Array<'jailbreak' | 'prompt_injection'>;
  /** Only in untrusted documents (role tool/context), where addressing the assistant is itself suspicious. */
  indirectOnly?: boolean;
}

const GAP = "[^.\\n]{0,40}?";

function re(source: string): RegExp {
  return new RegExp(source, 'g');
}

export const ATTACK_PATTERNS: AttackPattern[] = [
  {
    family: 'instruction_override',
    weight: 0.9,
    detectors: ['prompt_injection', 'jailbreak'],
    pattern: re(`\\b(ignore|disregard|forget|override|bypass|skip|neglect|abandon|discard|set aside|(do not|don't|stop) follow(ing)?)\\b${GAP}\\b(previous|prior|above|earlier|preceding|original|initial|system|old|existing|developer|all|any|your|those|these)\\b${GAP}\\b(instructions?|rules|guidelines|directions|prompts?|constraints|restrictions|polic(y|ies)|commands|orders|programming|guardrails|directives)\\b`),
  },
  {
    family: 'instruction_override',
    weight: 0.6,
    detectors: ['prompt_injection'],
    pattern: re(`\\b(new|updated|real|actual|revised) (instructions?|task|rules|directive)\\s*:|\\byour (new|real|actual) (task|job|goal|purpose) (is|will be)\\b`),
  },
  {
    family: 'system_prompt_extraction',
    weight: 0.85,
    detectors: ['prompt_injection'],
    pattern: re(`\\b(reveal|print|show|display|output|repeat|dump|leak|tell me|give me|quote|recite|what (is|are|was|were))\\b${GAP}\\b(system prompt|system message|initial (prompt|instructions)|original (prompt|instructions)|hidden (prompt|instructions|rules)|pre-?prompt|developer (message|prompt|instructions)|your (instructions|rules|prompt|configuration)|the (words|text|instructions) above|everything (above|before))`),
  },
  {
    family: 'fake_turn',
    weight: 0.45,
    detectors: ['prompt_injection'],
    pattern: re(`(^|\\n)\\s*(#{1,4} ?)?(system|assistant|ai|human|user)\\s*:\\s*\\S`),
  },
  {
    family: 'template_token',
    weight: 0.85,
    detectors: ['prompt_injection', 'jailbreak'],
    pattern: re(`<\\|(im_start|im_end|system|user|assistant|endoftext|begin_of_text|start_header_id|eot_id)\\|>|\\[/?inst\\]|<</?sys>>|</?(system|sys|instructions?)>|### (instruction|response|system)\\b|\\[system\\]|\\{\\{system\\}\\}`),
  },
  {
    family: 'mode_switch',
    weight: 0.7,
    detectors: ['prompt_injection', 'jailbreak'],
    pattern: re(`\\b(developer|debug|god|admin|sudo|maintenance|jailbreak|unrestricted|dan|evil|chaos) mode\\b|\\b(admin|root|sudo) (access|override|privileges?) (granted|enabled|activated)\\b`),
  },
  {
    family: 'persona',
    weight: 0.75,
    detectors: ['jailbreak'],
    pattern: re(`\\bdo anything now\\b|\\bjailbr(eak|oken)\\b|\\bstay(s|ing)? in character\\b|\\b(break|breaking) character\\b|\\byou are (now )?(going to )?(act|pretend|play|roleplay|role-play)(ing)? as\\b${GAP}\\b(ai|model|chatbot|assistant|gpt|bot)\\b`),
  },
  {
    family: 'restriction_removal',
    weight: 0.8,
    detectors: ['jailbreak'],
    pattern: re(`\\b(no|without|free (of|from)|not bound by|not (restricted|limited) by|doesn't (have|follow)|does not (have|follow)|don't have|do not have|freed from|broken free of)\\b [^.\\n]{0,25}?\\b(ethic(s|al)|moral(s|ity)?|restrictions|limitations|filters|censorship|guidelines|rules|boundaries|constraints|safeguards)\\b`),
  },
  {
    family: 'restriction_removal',
    weight: 0.45,
    detectors: ['jailbreak'],
    pattern: re(`\\b(unfiltered|uncensored|unrestricted|amoral|unethical and|immoral|unhinged)\\b`),
  },
  {
    family: 'refusal_suppression',
    weight: 0.7,
    detectors: ['jailbreak'],
    pattern: re(`\\b(never|must not|cannot|can't|won't|will not|do not|don't) (ever )?(refuse|decline|say (no|sorry|that you can't|you cannot))\\b|\\bwithout (any )?(warnings?|disclaimers?|refusals?)\\b|\\bno (warnings|disclaimers|apologies)\\b`),
  },
  {
    family: 'policy_reference',
    weight: 0.4,
    detectors: ['jailbreak'],
    pattern: re(`\\b(openai|anthropic|meta)('s)? (content |usage )?(polic(y|ies)|guidelines|rules)\\b|\\bcontent polic(y|ies)\\b|\\bas an ai language model\\b`),
  },
  {
    family: 'dual_response',
    weight: 0.4,
    detectors: ['jailbreak'],
    pattern: re(`\\b(two|2) (different |separate )?(responses|ways|answers|paragraphs)\\b|\\[(🔒|🔓|classic|jailbreak|gpt|dan)[^\\]\\n]{0,20}\\]`),
  },
  {
    family: 'addressed_to_assistant',
    weight: 0.7,
    detectors: ['prompt_injection'],
    indirectOnly: true,
    pattern: re(`\\b(in|to|into|with|within|throughout|at the end of|modify|augment|end|begin|start) your (answer|response|reply|output|summary|responses|answers|replies)\\b|\\b(when|while|if) (you are |you're )?(summari[sz]ing|answering|responding|replying|reading this)\\b|\\b(ai|assistant|chatbot|language model|llm)s?\\s*[,:]\\s*(please )?(ignore|you must|do not|don't|always|never|instead)\\b`),
  },
  {
    family: 'exfiltration',
    weight: 0.75,
    detectors: ['prompt_injection'],
    pattern: re(`\\b(send|forward|email|post|upload|exfiltrate|transmit)\\b${GAP}\\b(conversation|chat history|password|api key|credentials|user'?s? data|personal data|secrets?|tokens?)\\b${GAP}\\b(to|at)\\b`),
  },
];

export interface PatternMatch {
  family: PatternFamily;
  weight: number;
  start: number;
  end: number;
  text: string;
}

export interface PatternScan {
  score: number;
  matches: PatternMatch[];
  families: PatternFamily[];
}

export function normalizeForPatterns(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/[ \t\r\f\v]+/g, ' ').slice(0, 16000);
}

/** Scans text for the families a detector uses; score = noisy-OR over the strongest match of each family. */
export function scanPatterns(text: string, detector: 'jailbreak' | 'prompt_injection', indirect: boolean): PatternScan {
  const normalized = normalizeForPatterns(text);
  const matches: PatternMatch[] = [];
  const best = new Map<PatternFamily, number>();
  for (const entry of ATTACK_PATTERNS) {
    if (!entry.detectors.includes(detector)) continue;
    if (entry.indirectOnly && !indirect) continue;
    entry.pattern.lastIndex = 0;
    let found = 0;
    for (let match = entry.pattern.exec(normalized); match !== null && found < 20; match = entry.pattern.exec(normalized)) {
      if (match[0].length === 0) {
        entry.pattern.lastIndex++;
        continue;
      }
      found++;
      const start = match.index + (match[0].startsWith('\n') ? 1 : 0);
      matches.push({ family: entry.family, weight: entry.weight, start, end: match.index + match[0].length, text: match[0].trim().slice(0, 80) });
      best.set(entry.family, Math.max(best.get(entry.family) ?? 0, entry.weight));
    }
  }
  let remaining = 1;
  for (const weight of best.values()) remaining *= 1 - weight;
  return { score: 1 - remaining, matches, families: [...best.keys()] };
}
