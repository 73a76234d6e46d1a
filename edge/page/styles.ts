/** The page's stylesheet (inlined: one request for the page). Mobile first; fits 390 px. */
export const PAGE_CSS = `
:root { --ink: #1c1e26; --muted: #545b6b; --line: #dfe2ea; --bg: #f5f6f9; --card: #fff; --accent: #1b4fb8;
  --accent-ink: #fff; --good: #0b6b3a; --bad: #a8201a; --star: #8a4f00; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; top: 0; background: #fff; padding: .5rem; }
.skip:focus { left: .5rem; z-index: 10; }
header.top { background: #14213d; color: #fff; }
header.top .wrap { display: flex; align-items: center; gap: .75rem; padding-top: .8rem; padding-bottom: .8rem; flex-wrap: wrap; }
header.top h1 { margin: 0; font-size: 1.35rem; letter-spacing: .01em; }
header.top p { margin: 0; color: #d5dcf0; font-size: .95rem; }
.logo { width: 32px; height: 32px; flex: none; }
.wrap { max-width: 76rem; margin: 0 auto; padding-left: 1rem; padding-right: 1rem; }
main { padding-bottom: 2rem; }
section.panel { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 1rem; margin-top: 1rem; min-width: 0; }
h2 { font-size: 1.2rem; margin: 0 0 .6rem; }
h3 { font-size: 1rem; margin: 0; }
.hint { color: var(--muted); font-size: .9rem; margin: .2rem 0 .6rem; }
.row { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
.row > * { min-width: 0; }
label { font-weight: 600; }
input, select, button { font: inherit; color: inherit; }
input[type=search], input[type=text], input[type=password], input[type=number] { padding: .5rem .65rem; border: 1px solid #8d94a6; border-radius: 8px; background: #fff; width: 100%; min-width: 0; }
select { padding: .4rem .5rem; border: 1px solid #8d94a6; border-radius: 8px; background: #fff; max-width: 100%; }
button { cursor: pointer; border-radius: 8px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-ink); padding: .5rem .9rem; font-weight: 600; }
button.quiet { background: #fff; color: var(--accent); }
button.link { background: none; border: 0; padding: 0; color: var(--ink); font-weight: 700; text-align: left; }
button.link:hover { text-decoration: underline; }
button:disabled { opacity: .6; cursor: default; }
:focus-visible { outline: 3px solid #f5b301; outline-offset: 2px; }
.field { display: grid; gap: .25rem; flex: 1 1 12rem; min-width: 0; }
.grid { display: grid; gap: .75rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 17rem), 1fr)); margin: 0; padding: 0; list-style: none; }
.card { display: flex; gap: .7rem; background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: .55rem; min-width: 0; }
.card .body { display: grid; gap: .2rem; align-content: start; min-width: 0; flex: 1; }
.card h3 { font-size: 1rem; line-height: 1.25; overflow-wrap: anywhere; }
.poster, .ph { width: 64px; height: 96px; flex: none; border-radius: 6px; object-fit: cover; background: #dde; }
.ph { display: flex; align-items: flex-end; padding: .3rem; color: #fff; font-size: .68rem; font-weight: 700; line-height: 1.15; overflow: hidden; overflow-wrap: break-word; hyphens: auto; }
.meta { color: var(--muted); font-size: .85rem; margin: 0; overflow-wrap: anywhere; }
.reason { color: var(--good); font-size: .85rem; margin: 0; }
.rate select { font-size: .9rem; padding: .25rem .4rem; }
.rate { font-weight: 400; }
.stars { color: var(--star); letter-spacing: .05em; }
.status { min-height: 1.4em; margin: .4rem 0; color: var(--muted); }
.error { color: var(--bad); font-weight: 600; }
.layout { display: grid; gap: 0 1rem; grid-template-columns: minmax(0, 1fr); }
@media (min-width: 60rem) { .layout { grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); } }
.detail { display: flex; gap: 1rem; flex-wrap: wrap; }
.detail .poster, .detail .ph { width: 120px; height: 180px; font-size: .95rem; }
.detail .body { flex: 1 1 14rem; min-width: 0; display: grid; gap: .35rem; align-content: start; }
.prediction { font-size: 1.05rem; }
.chips { display: flex; flex-wrap: wrap; gap: .4rem; margin: 0 0 .6rem; padding: 0; list-style: none; }
.chip { display: inline-flex; align-items: center; gap: .35rem; border: 1px solid var(--line); border-radius: 999px; padding: .15rem .25rem .15rem .6rem; background: #f7f8fb; max-width: 100%; }
.chip span { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
.chip button { padding: .1rem .45rem; font-size: .85rem; }
.map-wrap { position: relative; }
.map-wrap svg { width: 100%; height: auto; max-height: 36rem; display: block; background: #fbfbfd; border: 1px solid var(--line); border-radius: 10px; }
.map-wrap circle { cursor: pointer; }
.map-wrap circle:hover { stroke: #111; stroke-width: 3; }
.tip { position: absolute; pointer-events: none; background: #14213d; color: #fff; padding: .2rem .5rem; border-radius: 6px; font-size: .85rem; max-width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; transform: translateY(-130%); }
.legend { display: flex; flex-wrap: wrap; gap: .3rem .8rem; margin: .5rem 0 0; padding: 0; list-style: none; font-size: .85rem; color: var(--muted); }
.legend i { display: inline-block; width: .7rem; height: .7rem; border-radius: 50%; margin-right: .3rem; vertical-align: -.05rem; }
footer { color: var(--muted); font-size: .85rem; padding: 1rem 0 2rem; overflow-wrap: anywhere; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
[hidden] { display: none !important; }
`;
