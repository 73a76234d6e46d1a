/** Vite's `?raw` imports: the file's text (the rate-limit test reads wrangler.toml's limits). */
declare module '*?raw' {
  const text: string;
  export default text;
}
