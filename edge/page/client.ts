/**
 * The page's client script (plain browser JS, inlined into the page): search as you type, movie
 * cards, ratings kept in sessionStorage, recommendations, similar movies, predictions, the catalog
 * map and the footer's health line, all through the public API. Titles are shown through the same
 * `displayTitle` as the API's display fields: its source is shipped here.
 */
import { displayTitle } from '../../shared/display-title.ts';

const SCRIPT = String.raw`
'use strict';
var displayTitle = __DISPLAY_TITLE__;
var config = JSON.parse(document.getElementById('config').textContent);
var $ = function (id) { return document.getElementById(id); };
var posterSet = new Set(config.posters);
var moviesById = new Map();
var ratings = new Map();
var current = null;
var RATED_KEY = 'reelrank.ratings';
var KEY_KEY = 'reelrank.readKey';

function esc(s) {
  return String(s).replace(/[&<>"']/g, function (c) {
    return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
  });
}
function shownTitle(m) { return displayTitle(m.title) + (m.year ? ' (' + m.year + ')' : ''); }
function stars(value) {
  var full = Math.floor(value + 1e-9);
  var half = value - full >= 0.5 - 1e-9;
  var s = '';
  for (var i = 0; i < full; i++) s += '\u2605';
  if (half) s += '\u00bd';
  return s || '\u2606';
}
function hue(text) {
  var h = 0;
  for (var i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) % 360;
  return h;
}

/** A plain-words message for a failed API call. */
function explain(error, context) {
  if (error && error.plain) return error.plain;
  return 'Something went wrong' + (context ? ' while ' + context : '') + '. Please try again.';
}
async function api(path, init) {
  var res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw { plain: 'Could not reach reelrank. Check your connection and try again.' };
  }
  var type = res.headers.get('content-type') || '';
  var body = null;
  if (type.indexOf('application/json') >= 0) {
    try { body = await res.json(); } catch (e) { body = null; }
  }
  if (res.ok && body !== null) return body;
  var code = body && body.error ? body.error.code : null;
  var plain;
  if (res.status === 401 || res.status === 403) plain = 'That read key was not accepted. Check the key and try again.';
  else if (res.status === 429) plain = 'Too many requests right now. Wait a few seconds and try again.';
  else if (code === 'movie_not_found') plain = 'No movie matches that title.';
  else if (code === 'unknown_user') plain = 'This model has no user with that id.';
  else if (code === 'unknown_movie') plain = 'That movie is not in this model.';
  else if (code === 'no_live_version' || res.status === 503) plain = 'No model is being served right now. Try again in a minute.';
  else if (res.status >= 500) plain = 'The server had a problem (HTTP ' + res.status + '). Please try again in a moment.';
  else if (res.status === 400) plain = 'That input was not accepted. Check it and try again.';
  else plain = 'The request failed (HTTP ' + res.status + ').';
  var suggestions = body && body.error && Array.isArray(body.error.suggestions) ? body.error.suggestions : [];
  throw { plain: plain, code: code, status: res.status, suggestions: suggestions };
}
function setStatus(id, text, isError) {
  var el = $(id);
  el.textContent = text;
  el.classList.toggle('error', !!isError);
}

function posterHtml(m, big) {
  if (config.posterBase && posterSet.has(m.movieId)) {
    return '<img class="poster" src="' + config.posterBase + m.movieId + '.jpg" alt="" width="' + (big ? 120 : 64) +
      '" height="' + (big ? 180 : 96) + '" loading="lazy" decoding="async">';
  }
  return '<div class="ph" aria-hidden="true" style="background:hsl(' + hue(m.title) + ' 42% 30%)">' +
    esc(displayTitle(m.title)) + '</div>';
}
function rateSelect(m) {
  var scale = config.ratingScale;
  var current = ratings.has(m.movieId) ? ratings.get(m.movieId).rating : null;
  var opts = '<option value="">Rate\u2026</option>';
  for (var v = scale.max; v >= scale.min - 1e-9; v -= scale.step) {
    var r = Math.round(v * 10) / 10;
    opts += '<option value="' + r + '"' + (current === r ? ' selected' : '') + '>' + stars(r) + ' ' + r + '</option>';
  }
  return '<label class="rate"><span class="sr-only">Your rating for ' + esc(shownTitle(m)) + '</span>' +
    '<select data-rate="' + m.movieId + '">' + opts + '</select></label>';
}
function cardHtml(m, extra) {
  moviesById.set(m.movieId, m);
  var meta = [m.year, (m.genres || []).join(', ')].filter(Boolean).join(' \u00b7 ');
  return '<li class="card">' + posterHtml(m, false) + '<div class="body">' +
    '<h3><button type="button" class="link" data-open="' + m.movieId + '">' + esc(displayTitle(m.title)) + '</button></h3>' +
    '<p class="meta">' + esc(meta) + '</p>' + (extra || '') + rateSelect(m) + '</div></li>';
}
function renderCards(listId, movies, extra) {
  $(listId).innerHTML = movies.map(function (m) { return cardHtml(m, extra ? extra(m) : ''); }).join('');
}

// Ratings of this tab (sessionStorage), shown as chips.
function loadRatings() {
  try {
    var saved = JSON.parse(sessionStorage.getItem(RATED_KEY) || '[]');
    saved.forEach(function (r) { ratings.set(r.movie.movieId, r); });
  } catch (e) { /* a corrupt entry is forgotten */ }
}
function saveRatings() {
  try { sessionStorage.setItem(RATED_KEY, JSON.stringify(Array.from(ratings.values()))); } catch (e) { /* private mode */ }
}
function showRated() {
  var list = Array.from(ratings.values());
  $('rated').innerHTML = list.length === 0
    ? '<li class="hint">No ratings yet: rate a few movies you know.</li>'
    : list.map(function (r) {
      return '<li class="chip"><span>' + esc(displayTitle(r.movie.title)) + ' <span class="stars">' + stars(r.rating) +
        '</span> ' + r.rating + '</span><button type="button" class="quiet" data-unrate="' + r.movie.movieId +
        '" aria-label="Remove your rating of ' + esc(shownTitle(r.movie)) + '">\u00d7</button></li>';
    }).join('');
  $('recommend').textContent = list.length ? 'Recommend for me' : 'Show popular picks';
}
function ratingsBody() {
  return Array.from(ratings.values()).map(function (r) { return { movieId: r.movie.movieId, rating: r.rating }; });
}
function syncSelects(movieId) {
  var value = ratings.has(movieId) ? String(ratings.get(movieId).rating) : '';
  document.querySelectorAll('select[data-rate="' + movieId + '"]').forEach(function (s) { s.value = value; });
}

// Search as you type.
var searchSeq = 0;
var searchTimer = 0;
async function search() {
  var q = $('q').value.trim();
  var seq = ++searchSeq;
  $('results').setAttribute('aria-busy', 'true');
  setStatus('results-status', q ? 'Searching\u2026' : 'Loading popular movies\u2026');
  try {
    var body = await api('/v1/movies?limit=12&q=' + encodeURIComponent(q));
    if (seq !== searchSeq) return;
    renderCards('results', body.items);
    setStatus('results-status', body.items.length === 0 ? 'No movie matches \u201c' + q + '\u201d.' :
      q ? body.total + ' movie' + (body.total === 1 ? '' : 's') + ' match \u201c' + q + '\u201d' + (body.total > body.items.length ? '; showing the ' + body.items.length + ' most popular.' : '.') :
      'Popular movies. Type to search.');
  } catch (e) {
    if (seq === searchSeq) { $('results').innerHTML = ''; setStatus('results-status', explain(e, 'searching'), true); }
  } finally {
    if (seq === searchSeq) $('results').removeAttribute('aria-busy');
  }
}

// One movie: details, prediction, similar movies.
async function openMovie(movieId) {
  var section = $('movie');
  section.hidden = false;
  var known = moviesById.get(movieId);
  current = known || { movieId: movieId, title: '\u2026', year: null, genres: [] };
  renderDetail(current);
  section.scrollIntoView({ behavior: 'smooth', block: 'start' });
  $('movie-heading').focus({ preventScroll: true });
  try {
    var body = await api('/v1/movies/' + movieId);
    if (current.movieId !== movieId) return;
    current = body.movie;
    moviesById.set(movieId, current);
    renderDetail(current);
  } catch (e) {
    $('movie-detail').innerHTML = '<p class="error">' + esc(explain(e, 'loading the movie')) + '</p>';
  }
  showSimilar();
}
function renderDetail(m) {
  $('movie-heading').textContent = shownTitle(m);
  var facts = [];
  if (m.genres && m.genres.length) facts.push(m.genres.join(', '));
  if (m.ratingCount) facts.push(m.ratingCount + ' ratings, average ' + stars(m.meanRating) + ' ' + m.meanRating.toFixed(1));
  $('movie-detail').innerHTML = posterHtml(m, true) + '<div class="body"><p class="meta">' + esc(facts.join(' \u00b7 ')) + '</p>' +
    rateSelect(m) + '<div class="row"><button type="button" id="predict-movie">What would I rate this?</button></div>' +
    '<p id="movie-prediction" class="prediction" role="status" aria-live="polite"></p></div>';
}
async function showSimilar() {
  if (!current) return;
  var movieId = current.movieId;
  $('similar').setAttribute('aria-busy', 'true');
  setStatus('similar-status', 'Loading similar movies\u2026');
  try {
    var body = await api('/v1/movies/' + movieId + '/similar?k=8&by=' + encodeURIComponent($('by').value));
    if (!current || current.movieId !== movieId) return;
    renderCards('similar', body.items);
    setStatus('similar-status', body.items.length ? '' : 'No similar movies on this channel.');
  } catch (e) {
    $('similar').innerHTML = '';
    setStatus('similar-status', explain(e, 'loading similar movies'), true);
  } finally {
    $('similar').removeAttribute('aria-busy');
  }
}
function predictionText(p, ratingCount) {
  var scale = config.ratingScale;
  var value = Math.round(p.rating * 10) / 10;
  return 'About <span class="stars">' + stars(Math.round(value * 2) / 2) + '</span> <strong>' + value.toFixed(1) +
    '</strong> out of ' + scale.max + ' for ' + esc(shownTitle(p)) + (ratingCount
      ? ', from your ' + ratingCount + ' rating' + (ratingCount === 1 ? '' : 's') + '.'
      : '. Rate a few movies to make it yours; for now it is the estimate for an average viewer.');
}
async function predictMovie() {
  if (!current) return;
  var out = $('movie-prediction');
  out.textContent = 'Estimating\u2026';
  try {
    var body = await api('/v1/predictions', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ movieIds: [current.movieId], ratings: ratingsBody() }) });
    out.innerHTML = predictionText(body.predictions[0], body.ratingCount);
  } catch (e) {
    out.innerHTML = '<span class="error">' + esc(explain(e, 'estimating')) + '</span>';
  }
}
async function predictTitle(event) {
  event.preventDefault();
  var title = $('predict-title').value.trim();
  var out = $('prediction');
  if (!title) { out.innerHTML = '<span class="error">Type a movie title first.</span>'; return; }
  out.textContent = 'Estimating\u2026';
  try {
    var body = await api('/v1/predictions', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ titles: [title], ratings: ratingsBody() }) });
    var p = body.predictions[0];
    var also = p.alternatives && p.alternatives.length
      ? '<br><span class="hint">Did you mean another one? ' + p.alternatives.map(function (a) { return esc(shownTitle(a)); }).join(', ') + '</span>' : '';
    out.innerHTML = predictionText(p, body.ratingCount) + also;
  } catch (e) {
    var hint = e.suggestions && e.suggestions.length
      ? ' Close titles: ' + e.suggestions.slice(0, 4).map(function (s) { return esc(shownTitle(s)); }).join(', ') + '.' : '';
    out.innerHTML = '<span class="error">' + esc(explain(e, 'estimating')) + '</span>' + hint;
  }
}

// Recommendations: this tab's ratings, or a known user with a read key.
function reasonHtml(m) {
  return m.reason ? '<p class="reason">' + esc(m.reason.text) + '</p>' : '';
}
async function recommend() {
  var button = $('recommend');
  button.disabled = true;
  $('recs').setAttribute('aria-busy', 'true');
  setStatus('recs-status', 'Finding picks\u2026');
  try {
    var body = await api('/v1/recommendations', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ k: 12, diversity: Number($('diversity').value), ratings: ratingsBody() }) });
    renderCards('recs', body.items, reasonHtml);
    setStatus('recs-status', body.ratingCount ? 'Picks from your ' + body.ratingCount + ' rating' + (body.ratingCount === 1 ? '' : 's') + '.' : 'Popular picks: rate a few movies to make them yours.');
  } catch (e) {
    $('recs').innerHTML = '';
    setStatus('recs-status', explain(e, 'finding picks'), true);
  } finally {
    button.disabled = false;
    $('recs').removeAttribute('aria-busy');
  }
}
function storedKey() { try { return sessionStorage.getItem(KEY_KEY) || ''; } catch (e) { return ''; } }
function showKeyState() {
  var has = storedKey() !== '';
  $('key-field').hidden = has;
  $('forget-key').hidden = !has;
}
async function userRecs(event) {
  event.preventDefault();
  var id = $('user-id').value.trim();
  if (!/^[0-9]+$/.test(id)) { setStatus('user-status', 'Enter a user id (a whole number).', true); return; }
  var typed = $('read-key').value;
  if (typed) { try { sessionStorage.setItem(KEY_KEY, typed); } catch (e) { /* private mode */ } $('read-key').value = ''; }
  var key = storedKey() || typed;
  showKeyState();
  $('user-recs').setAttribute('aria-busy', 'true');
  setStatus('user-status', 'Loading picks for user ' + id + '\u2026');
  try {
    var headers = key ? { authorization: 'Bearer ' + key } : {};
    var body = await api('/v1/users/' + id + '/recommendations?k=12&diversity=' + Number($('diversity').value), { headers: headers });
    renderCards('user-recs', body.items, reasonHtml);
    setStatus('user-status', 'Picks for user ' + id + ', who rated ' + body.ratingCount + ' movies.');
  } catch (e) {
    $('user-recs').innerHTML = '';
    if (e.status === 401 || e.status === 403) { try { sessionStorage.removeItem(KEY_KEY); } catch (x) { /* ignore */ } showKeyState(); }
    setStatus('user-status', e.status === 401 && !key ? 'This needs a read key. Enter it and try again.' : explain(e, 'loading picks'), true);
  } finally {
    $('user-recs').removeAttribute('aria-busy');
  }
}

// The catalog map: the version's 2-D layout, hover shows the title, click opens the movie.
async function loadMap() {
  var box = $('map');
  if (!config.mapUrl) { $('map-hint').hidden = true; setStatus('map-status', 'This model version has no catalog map.'); return; }
  setStatus('map-status', 'Loading the map\u2026');
  try {
    var map = await api(config.mapUrl);
    var palette = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#9c755f', '#edc948', '#76b7b2', '#ff9da7', '#bab0ac', '#1f5f8b', '#8cd17d'];
    var circles = map.points.map(function (p, n) {
      return '<circle cx="' + p[1] + '" cy="' + p[2] + '" r="7" fill="' + palette[p[3] % palette.length] + '" data-map="' + n + '"></circle>';
    }).join('');
    box.innerHTML = '<svg viewBox="-10 -10 1020 1020" role="img" aria-label="Map of ' + map.points.length +
      ' movies placed by who likes them (use the search to reach a movie by keyboard)">' + circles + '</svg>' +
      '<div class="tip" hidden></div><ul class="legend" aria-label="Colours">' + map.genres.map(function (g, n) {
        return '<li><i style="background:' + palette[n % palette.length] + '"></i>' + esc(g) + '</li>';
      }).join('') + '</ul>';
    var tip = box.querySelector('.tip');
    var svg = box.querySelector('svg');
    svg.addEventListener('mousemove', function (event) {
      var n = event.target.getAttribute && event.target.getAttribute('data-map');
      if (n === null || n === undefined) { tip.hidden = true; return; }
      var m = map.titles[Number(n)];
      var rect = box.getBoundingClientRect();
      tip.textContent = m;
      tip.hidden = false;
      // Kept inside the map's box (no horizontal scrolling on a narrow screen).
      var x = event.clientX - rect.left - tip.offsetWidth / 2;
      tip.style.left = Math.max(0, Math.min(rect.width - tip.offsetWidth, x)) + 'px';
      tip.style.top = (event.clientY - rect.top) + 'px';
    });
    svg.addEventListener('mouseleave', function () { tip.hidden = true; });
    svg.addEventListener('click', function (event) {
      var n = event.target.getAttribute && event.target.getAttribute('data-map');
      if (n !== null && n !== undefined) openMovie(map.points[Number(n)][0]);
    });
    setStatus('map-status', map.points.length + ' most-rated movies. ' + map.method + '.');
  } catch (e) {
    setStatus('map-status', explain(e, 'loading the map'), true);
  }
}

async function health() {
  try {
    var res = await fetch('/v1/health');
    var body = await res.json();
    $('health').textContent = body.status === 'ok' ? 'Service healthy \u00b7 model loaded ' + new Date(body.loadedAt).toLocaleString()
      : body.status === 'degraded' ? 'Service degraded: a newer model was refused; still serving ' + body.version + '.'
      : 'Service unavailable: no model loaded.';
  } catch (e) {
    $('health').textContent = 'Service health unknown (no answer).';
  }
}

// Events: one delegated listener per kind.
document.addEventListener('click', function (event) {
  var t = event.target.closest ? event.target.closest('[data-open],[data-unrate],#predict-movie') : null;
  if (!t) return;
  if (t.id === 'predict-movie') { predictMovie(); return; }
  if (t.hasAttribute('data-open')) { openMovie(Number(t.getAttribute('data-open'))); return; }
  var id = Number(t.getAttribute('data-unrate'));
  ratings.delete(id);
  saveRatings();
  showRated();
  syncSelects(id);
});
document.addEventListener('change', function (event) {
  var t = event.target;
  if (!t.hasAttribute || !t.hasAttribute('data-rate')) return;
  var id = Number(t.getAttribute('data-rate'));
  var m = moviesById.get(id);
  if (t.value === '') ratings.delete(id);
  else ratings.set(id, { movie: { movieId: id, title: m.title, year: m.year, genres: m.genres }, rating: Number(t.value) });
  saveRatings();
  showRated();
  syncSelects(id);
});
$('search-form').addEventListener('submit', function (event) { event.preventDefault(); clearTimeout(searchTimer); search(); });
$('q').addEventListener('input', function () { clearTimeout(searchTimer); searchTimer = setTimeout(search, 200); });
$('by').addEventListener('change', showSimilar);
$('recommend').addEventListener('click', recommend);
$('diversity').addEventListener('input', function () { $('diversity-value').textContent = Number($('diversity').value).toFixed(1); });
$('predict-form').addEventListener('submit', predictTitle);
$('user-form').addEventListener('submit', userRecs);
$('forget-key').addEventListener('click', function () { try { sessionStorage.removeItem(KEY_KEY); } catch (e) { /* ignore */ } showKeyState(); $('read-key').focus(); });
$('movie-heading').tabIndex = -1;

loadRatings();
showRated();
showKeyState();
health();
if (config.version) { search(); loadMap(); }
`;

/** The script as inlined into the page, with the shared `displayTitle` in it. */
export const CLIENT_JS = SCRIPT.replace('__DISPLAY_TITLE__', () => displayTitle.toString()).replace(
  /<\/(script)/gi,
  '<\\/$1',
);
