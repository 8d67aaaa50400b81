// Types of /kindred.js: Kindred's engine for other pages on the same site, with an
// OpenAI-style chat API. The model runs in the visitor's browser (a Web Worker; the GPU
// through WebGPU where asked and available) and is kept in IndexedDB, shared with the app and
// the <kindred-chat> widget on the site.

export type ErrorCode =
  | 'model_not_found' // no such manifest id, or no file at that address
  | 'unsupported_model' // a file the engine cannot run (the message says why)
  | 'context_length_exceeded' // the prompt is longer than the model's context
  | 'invalid_request' // a request, option or schema this cannot take (the message says which)
  | 'aborted' // the request's signal aborted, or the engine was unloaded
  | 'character_not_found' // no character with that id on this site
  | 'engine_error'; // anything else the engine reports (its worker ended, ...)

export declare const CODES: readonly ErrorCode[];

export declare class KindredError extends Error {
  readonly code: ErrorCode;
}

export interface Progress {
  phase: 'download' | 'cache' | 'verify' | 'init';
  loaded: number;
  total: number;
}

export interface EngineOptions {
  /** A manifest id (models/manifest.json) or the address of a .gguf file on this site.
   *  Default: the manifest's default model. */
  model?: string;
  /** Where the model runs: 'gpu' asks for WebGPU (the CPU when it is missing), 'auto' lets
   *  the engine choose. Default 'auto'. */
  backend?: 'auto' | 'gpu' | 'cpu';
  onProgress?: (progress: Progress) => void;
  /** true: the pages of this site share one engine and one copy of the model (a SharedWorker;
   *  replies from every page are written one at a time, in the order asked; a page's stop and
   *  a closed page's requests touch no other page's). false: this page runs its own. 'auto'
   *  (default): shared unless the shared engine would run fewer threads than this page's own
   *  (Chromium does not cross-origin isolate SharedWorkers, so there it runs one thread). */
  shared?: boolean | 'auto';
}

export type Role = 'system' | 'user' | 'assistant';

export interface Message {
  role: Role;
  content: string | { type: 'text'; text: string }[];
}

/** The JSON Schema subset replies are kept to: type (one or a list), properties with required
 *  (an object with properties takes only those keys), additionalProperties (an object without
 *  properties), items, minItems, maxItems, minLength, maxLength, enum, const, and local $ref
 *  into $defs or definitions. Other keywords are not enforced. */
export type JsonSchema = Record<string, unknown>;

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name?: string; schema: JsonSchema; strict?: boolean } };

export interface CompletionRequest {
  messages: Message[];
  stream?: boolean;
  /** With stream: a last chunk with no choices and the usage. */
  stream_options?: { include_usage?: boolean };
  /** Default 120; at most 2048. */
  max_tokens?: number;
  max_completion_tokens?: number;
  /** 0 to 2; 0 picks the likeliest token every time. */
  temperature?: number;
  top_p?: number;
  /** The same seed and request give the same reply. */
  seed?: number;
  /** Up to 16 strings of up to 64 characters; the reply ends before one. */
  stop?: string | string[];
  /** JSON output: the reply parses (and fits the schema) unless it reached max_tokens first. */
  response_format?: ResponseFormat;
  n?: 1;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type FinishReason = 'stop' | 'length';

export interface Completion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: [{ index: 0; message: { role: 'assistant'; content: string }; finish_reason: FinishReason }];
  usage: Usage;
}

export interface CompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  /** Empty only in the usage chunk. */
  choices: { index: 0; delta: { role?: 'assistant'; content?: string }; finish_reason: FinishReason | null }[];
  usage?: Usage;
}

export interface EngineInfo {
  model: string;
  name: string;
  architecture: string;
  backend: 'gpu' | 'cpu';
  threads: number;
  /** Tokens the prompt and the reply share. */
  context: number;
  /** The shared engine: pages connected to it, models it has loaded. Null: this page's own. */
  shared: { pages: number; loads: number } | null;
}

export interface CharacterSummary {
  id: string;
  name: string;
  description: string;
  tags: string[];
  /** 'starter' (the site's own), 'imported', or made in the app's editor. */
  origin: string;
}

export interface ChatMessage {
  id: number;
  role: 'user' | 'assistant';
  /** The shown alternative (swipe) as stored: checked by the safety settings and trimmed to
   *  the character's own turn, as the app stores it. */
  content: string;
  greeting: boolean;
  swipe: number;
  swipes: number;
  rating: 1 | 2 | 3 | 4 | null;
  status: string;
}

export interface ChatReply {
  message: ChatMessage;
  finish_reason: FinishReason;
  usage: Usage;
}

/** A chat with a character, the same conversation the app runs (its prompt: the card,
 *  persona, lorebooks, memory and summaries; its storage: this site's IndexedDB, so it is
 *  listed in the app too). Replies go through the engine's queue with the completions. */
export interface CharacterChat {
  readonly id: string;
  history(): ChatMessage[];
  /** With stream, the chunks of the reply as it is written; the last one carries `message`,
   *  the reply as stored. */
  send(text: string, options: { stream: true; signal?: AbortSignal }): Promise<AsyncIterable<CompletionChunk & { message?: ChatMessage }>>;
  send(text: string, options?: { stream?: false; signal?: AbortSignal }): Promise<ChatReply>;
  /** Another reply in place of the last one, kept beside it as a swipe. */
  swipe(options: { stream: true; signal?: AbortSignal }): Promise<AsyncIterable<CompletionChunk & { message?: ChatMessage }>>;
  swipe(options?: { stream?: false; signal?: AbortSignal }): Promise<ChatReply>;
  /** 1-4 stars on the last reply's shown swipe; the same stars again clear them. Resolves to
   *  the rating now. */
  rate(stars: 1 | 2 | 3 | 4): Promise<number | null>;
}

export interface Engine {
  chat: {
    completions: {
      /** Requests are answered one at a time, in order. Leaving a stream's loop early stops
       *  its reply; an aborted signal drops a waiting request or stops the one being written. */
      create(request: CompletionRequest & { stream: true }, options?: { signal?: AbortSignal }): Promise<AsyncIterable<CompletionChunk>>;
      create(request: CompletionRequest & { stream?: false }, options?: { signal?: AbortSignal }): Promise<Completion>;
    };
  };
  characters: {
    /** The site's characters: the starters and what was imported or made in the app. */
    list(): Promise<CharacterSummary[]>;
    get(id: string): Promise<CharacterSummary & { card: Record<string, unknown> }>;
    /** A PNG, JSON or CHARX card (Character Card V1/V2/V3, SillyTavern, RisuAI), stored. */
    import(file: Blob): Promise<CharacterSummary>;
    /** A new chat opened by the character's greeting, or the stored chat `chat`. */
    chat(id: string, options?: { persona?: { name: string; description?: string }; chat?: string }): Promise<CharacterChat>;
  };
  info(): EngineInfo;
  /** Ends the worker and frees the model's memory; waiting and later requests fail 'aborted'. */
  unload(): void;
}

/** Loads the model and resolves once it can answer. */
export declare function createEngine(options?: EngineOptions): Promise<Engine>;
