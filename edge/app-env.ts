/** The Hono environment of every route and middleware: Worker bindings and per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /**
     * Which API key authenticated this request (`read:0`, `write:1`: kind and position in the
     * secret, never the key itself), set by `requireKey`; absent on anonymous requests.
     */
    apiKeyId?: string;
  };
}
