/**
 * The demo page at `/`: plain HTML and JS, no framework. Search a movie, see similar movies by
 * channel, rate a few and get recommendations with reasons, ask what you would rate a title, all
 * through the public API.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reelrank</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; color: #222; }
  h1 { margin: 0 0 .25rem; } .muted { color: #777; font-size: .85em; }
  section { margin-top: 1.25rem; } input, select, button { font: inherit; padding: .25rem .5rem; }
  ul { list-style: none; padding: 0; } li { padding: .3rem 0; border-bottom: 1px solid #eee; }
  .reason { color: #0a6; font-size: .9em; } .err { color: #b00; }
  .row { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
</style>
</head>
<body>
<h1>reelrank</h1>
<div class="muted" id="version">loading…</div>
<section>
  <div class="row"><input id="q" placeholder="Search a movie title" size="40" autocomplete="off"><button id="search">Search</button></div>
  <ul id="results"></ul>
</section>
<section>
  <h2>Similar to <span id="similar-title">…</span></h2>
  <div class="row">by <select id="by"><option>hybrid</option><option>content</option><option>collaborative</option><option>visual</option></select></div>
  <ul id="similar"></ul>
</section>
<section>
  <h2>Your ratings</h2>
  <ul id="rated"></ul>
  <div class="row"><button id="recommend">Recommend</button> diversity <input id="diversity" type="range" min="0" max="1" step="0.1" value="0.2"></div>
  <ul id="recs"></ul>
</section>
<section>
  <h2>What would I rate this?</h2>
  <div class="row"><input id="predict-title" placeholder="A title, e.g. The Matrix (1999)" size="40" autocomplete="off"><button id="predict">Predict</button></div>
  <ul id="prediction"></ul>
</section>
<script>
const $ = (id) => document.getElementById(id);
const ratings = new Map();
let similarTo = null;
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const label = (m) => esc(m.title) + (m.year ? ' (' + m.year + ')' : '') + ' <span class="muted">' + esc(m.genres.join(', ')) + '</span>';
async function api(path, init) {
  const res = await fetch(path, init);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ? body.error.code + ': ' + body.error.message : res.status);
  return body;
}
function fail(target, error) { target.innerHTML = '<li class="err">' + esc(error.message) + '</li>'; }
function rateControl(m) {
  const options = ['', '1', '2', '3', '4', '5'].map((v) => '<option' + (String(ratings.get(m.movieId)?.rating ?? '') === v ? ' selected' : '') + '>' + v + '</option>').join('');
  return '<select data-rate="' + m.movieId + '" title="rate">' + options + '</select>';
}
function bindRates(root, movies) {
  root.querySelectorAll('[data-rate]').forEach((el) => el.addEventListener('change', () => {
    const id = Number(el.dataset.rate);
    const movie = movies.find((m) => m.movieId === id);
    if (el.value === '') ratings.delete(id); else ratings.set(id, { movie, rating: Number(el.value) });
    showRated();
  }));
  root.querySelectorAll('[data-similar]').forEach((el) => el.addEventListener('click', () => {
    similarTo = movies.find((m) => m.movieId === Number(el.dataset.similar));
    showSimilar();
  }));
}
function movieList(target, movies, extra) {
  target.innerHTML = movies.map((m) => '<li class="row">' + rateControl(m) + '<span>' + label(m) + '</span>' + (extra ? extra(m) : '') +
    ' <button data-similar="' + m.movieId + '">similar</button></li>').join('') || '<li class="muted">nothing found</li>';
  bindRates(target, movies);
}
function showRated() {
  $('rated').innerHTML = [...ratings.values()].map((r) => '<li>' + r.rating + ' ★ ' + label(r.movie) + '</li>').join('') || '<li class="muted">rate a few movies above</li>';
}
async function search() {
  try { const body = await api('/v1/movies?limit=15&q=' + encodeURIComponent($('q').value)); movieList($('results'), body.items); }
  catch (e) { fail($('results'), e); }
}
async function showSimilar() {
  if (!similarTo) return;
  $('similar-title').textContent = similarTo.title;
  try {
    const body = await api('/v1/movies/' + similarTo.movieId + '/similar?k=10&by=' + $('by').value);
    movieList($('similar'), body.items, (m) => ' <span class="muted">' + m.similarity.toFixed(3) + '</span>');
  } catch (e) { fail($('similar'), e); }
}
async function recommend() {
  try {
    const body = await api('/v1/recommendations', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ k: 10, diversity: Number($('diversity').value), ratings: [...ratings.entries()].map(([movieId, r]) => ({ movieId, rating: r.rating })) }) });
    movieList($('recs'), body.items, (m) => ' <span class="reason">' + esc(m.reason.text) + '</span>');
  } catch (e) { fail($('recs'), e); }
}
async function predict() {
  try {
    const body = await api('/v1/predictions', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ titles: [$('predict-title').value], ratings: [...ratings.entries()].map(([movieId, r]) => ({ movieId, rating: r.rating })) }) });
    const p = body.predictions[0];
    const others = p.alternatives.length ? '<li class="muted">also: ' + p.alternatives.map((a) => esc(a.title) + (a.year ? ' (' + a.year + ')' : '')).join(', ') + '</li>' : '';
    $('prediction').innerHTML = '<li><b>' + p.rating.toFixed(1) + ' ★</b> ' + esc(p.title) + (p.year ? ' (' + p.year + ')' : '') +
      ' <span class="muted">' + p.match + ' match' + (body.ratingCount ? ', from your ' + body.ratingCount + ' ratings' : ', no ratings yet: baseline for everyone') + '</span></li>' + others;
  } catch (e) { fail($('prediction'), e); }
}
$('search').addEventListener('click', search);
$('predict').addEventListener('click', predict);
$('predict-title').addEventListener('keydown', (e) => { if (e.key === 'Enter') predict(); });
$('q').addEventListener('keydown', (e) => { if (e.key === 'Enter') search(); });
$('by').addEventListener('change', showSimilar);
$('recommend').addEventListener('click', recommend);
showRated();
api('/v1/version').then((v) => { $('version').textContent = 'version ' + v.version + ' · ' + v.movies + ' movies · ' + v.users + ' users'; })
  .catch((e) => { $('version').textContent = e.message; });
</script>
</body>
</html>
`;
