// Flock try-it page: a tiny vanilla client of the Flock protocol (see PROTOCOL.md).
// Rules kept here: user-controlled strings only ever reach the DOM through textContent, colours are
// validated before they reach CSS, and no API key is ever embedded in the page.
(function () {
  'use strict';

  var HEARTBEAT_MS = 10000;        // the SDK's interval; the server expects it
  var ACK_TIMEOUT_MS = 20000;      // like the SDK: no ack for this long means the server is gone
  var CURSOR_THROTTLE_MS = 50;     // about 20 moves per second
  var BACKOFF_BASE_MS = 500;
  var BACKOFF_MAX_MS = 15000;
  var PRESENCE_DEBOUNCE_MS = 250;
  var DEFAULT_COLOR = '#64748b';
  var DEFAULT_ROOM = 'demo';
  var PRIVATE_ROOM_PREFIX = 'demo-';
  var COLOR = /^#[0-9a-fA-F]{6}$/;
  var CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
  var ADJECTIVES = ['Brave', 'Calm', 'Clever', 'Eager', 'Gentle', 'Happy', 'Jolly', 'Lucky', 'Quick', 'Quiet', 'Sunny', 'Witty'];
  var ANIMALS = ['Otter', 'Falcon', 'Panda', 'Fox', 'Heron', 'Lynx', 'Koala', 'Robin', 'Marten', 'Wren', 'Badger', 'Finch'];
  var PALETTE = ['#e11d48', '#db2777', '#9333ea', '#4f46e5', '#2563eb', '#0891b2', '#059669', '#65a30d', '#ca8a04', '#ea580c'];

  var $ = function (id) { return document.getElementById(id); };
  var canvas = $('canvas');
  var presenceList = $('presence');

  // ---- identity: one userId per tab (sessionStorage), so two tabs are two people ----

  var store = tabStore();
  var params = new URLSearchParams(window.location.search);
  var userId = store.get('flock.userId') || ('user-' + randomId(10));
  var name = validName(store.get('flock.name')) || pick(ADJECTIVES) + ' ' + pick(ANIMALS);
  var color = validColor(store.get('flock.color')) || pick(PALETTE);
  var apiKey = params.get('apiKey') || store.get('flock.apiKey') || '';
  // Without ?room= every tab joins the same room, so "open the page in two tabs" shows two users; the URL stays
  // as typed (a reload stays in the shared room). "New private room" links to a random ?room=demo-xxxxxx.
  var roomId = params.get('room');
  if (!isValidId(roomId)) roomId = DEFAULT_ROOM;
  store.set('flock.userId', userId);
  store.set('flock.name', name);
  store.set('flock.color', color);

  // ---- connection state ----

  var ws = null;
  var attempt = 0;
  var reconnectTimer = null;
  var heartbeatTimer = null;
  var pendingAcks = [];            // send times (performance.now()) of unanswered heartbeats, oldest first
  var joined = false;              // admitted in the room (join:ack received)
  var roomClosed = false;          // closed by an operator: stay out until the user rejoins
  var keyRejected = false;
  var pageHidden = false;
  var config = {};
  var remotes = new Map();         // userId -> remote user (metadata, cursor element, chip)

  // ---- small helpers ----

  function tabStore() {
    var memory = {};
    return {
      get: function (k) { try { return window.sessionStorage.getItem(k); } catch (e) { return memory[k] || null; } },
      set: function (k, v) { try { window.sessionStorage.setItem(k, v); } catch (e) { memory[k] = v; } }
    };
  }

  function randomId(length) {
    var bytes = new Uint8Array(length);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b % 36).toString(36); }).join('');
  }

  function pick(list) { return list[Math.floor(Math.random() * list.length)]; }
  function validColor(value) { return typeof value === 'string' && COLOR.test(value) ? value : null; }
  function validName(value) { return typeof value === 'string' && value.trim() ? value.trim().slice(0, 40) : null; }
  function isValidId(value) {
    return typeof value === 'string' && value.length >= 1 && value.length <= 128 && !CONTROL_CHARS.test(value);
  }
  function clamp01(n) { return Math.min(1, Math.max(0, n)); }
  function isOpen() { return ws !== null && ws.readyState === WebSocket.OPEN; }

  function send(message) {
    if (!isOpen()) return false;
    ws.send(JSON.stringify(message));
    return true;
  }

  function setStatus(state, text) {
    var el = $('status');
    el.setAttribute('data-state', state);
    el.textContent = text || state;
    document.documentElement.setAttribute('data-flock', joined ? 'joined' : state);
  }

  function showNotice(text, offerRejoin) {
    $('notice-text').textContent = text;
    $('rejoin').hidden = !offerRejoin;
    $('notice').hidden = false;
  }

  function hideNotice() { $('notice').hidden = true; }

  // ---- connection ----

  function webSocketUrl() {
    // Relative to the page, so a server mounted under a prefix (/flock/) works too.
    var url = new URL('ws', window.location.href);
    url.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.search = '';
    url.hash = '';
    if (apiKey) url.searchParams.set('apiKey', apiKey);
    return url.href;
  }

  function connect() {
    window.clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (ws !== null) return;
    setStatus(attempt === 0 ? 'connecting' : 'reconnecting', attempt === 0 ? 'connecting…' : 'reconnecting…');
    var socket;
    try {
      socket = new WebSocket(webSocketUrl());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    var opened = false;
    ws = socket;
    socket.onopen = function () {
      if (ws !== socket) return;
      opened = true;
      attempt = 0;
      setStatus('connected', 'connected');
      if (!roomClosed) sendJoin();
      startHeartbeat();
    };
    socket.onmessage = function (event) {
      if (ws === socket) handleMessage(event.data);
    };
    socket.onclose = function () {
      if (ws !== socket) return;
      ws = null;
      stopHeartbeat();
      joined = false;
      clearRemotes();
      if (pageHidden) return;
      if (keyRejected) {
        setStatus('error', 'API key refused');
        showKeyForm('The server refused this API key.');
        return;
      }
      if (!opened && apiKey && config.apiKeyRequired === true) {
        // A wrong key at the upgrade is an HTTP 401 that the browser reports as a plain failure.
        setStatus('error', 'could not connect');
        showKeyForm('Could not connect: the server may have refused this API key.');
        return;
      }
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    var exponent = Math.min(attempt, 10);
    var delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * Math.pow(2, exponent));
    delay = Math.round(delay * (0.5 + Math.random() * 0.5)); // jitter: tabs do not reconnect in lockstep
    attempt++;
    setStatus('disconnected', 'disconnected, retrying in ' + Math.ceil(delay / 1000) + ' s');
    reconnectTimer = window.setTimeout(connect, delay);
  }

  function sendJoin() {
    var message = { type: 'join', roomId: roomId, userId: userId, metadata: { name: name, color: color } };
    if (apiKey) message.apiKey = apiKey;
    send(message);
  }

  function startHeartbeat() {
    stopHeartbeat();
    heartbeatTimer = window.setInterval(sendHeartbeat, HEARTBEAT_MS);
  }

  function stopHeartbeat() {
    window.clearInterval(heartbeatTimer);
    heartbeatTimer = null;
    pendingAcks = [];
  }

  function sendHeartbeat() {
    var now = window.performance.now();
    if (pendingAcks.length > 0 && now - pendingAcks[0] > ACK_TIMEOUT_MS) {
      if (ws) ws.close(4000, 'heartbeat timeout'); // onclose reconnects
      return;
    }
    if (pendingAcks.length < 4 && send({ type: 'heartbeat', roomId: roomId })) pendingAcks.push(now);
  }

  function onHeartbeatAck() {
    var sentAt = pendingAcks.shift();
    if (sentAt === undefined) return;
    $('latency').textContent = Math.max(0, Math.round(window.performance.now() - sentAt)) + ' ms';
  }

  // ---- inbound messages ----

  function handleMessage(data) {
    var msg;
    try { msg = JSON.parse(data); } catch (e) { return; }
    if (!msg || typeof msg.type !== 'string') return;
    if (msg.type === 'heartbeat:ack') { onHeartbeatAck(); return; }
    if (msg.type === 'error') { onError(msg); return; }
    if (msg.roomId !== roomId) return;
    switch (msg.type) {
      case 'join:ack': onJoinAck(msg); break;
      case 'user:joined': if (msg.userId !== userId) upsertRemote(msg.userId, msg.metadata, true); break;
      case 'user:left': removeRemote(msg.userId); break;
      case 'presence:updated': if (msg.userId !== userId) upsertRemote(msg.userId, msg.metadata, false); break;
      case 'cursor:updated': onCursorUpdated(msg); break;
      case 'cursor:removed': hideCursor(msg.userId); break;
      default: break;
    }
    renderPresence();
  }

  function onJoinAck(msg) {
    joined = true;
    roomClosed = false;
    hideNotice();
    clearRemotes();
    (Array.isArray(msg.users) ? msg.users : []).forEach(function (user) {
      if (!user || !isValidId(user.userId) || user.userId === userId) return;
      upsertRemote(user.userId, user.metadata, true);
      var position = cursorPosition(user.cursor);
      if (position) moveCursor(user.userId, position, true);
    });
    setStatus('connected', 'connected');
    sendHeartbeat(); // show a latency right away instead of after 10 s
  }

  function onCursorUpdated(msg) {
    if (msg.userId === userId || !isValidId(msg.userId)) return;
    var position = cursorPosition(msg.position);
    if (!position) return;
    if (!remotes.has(msg.userId)) upsertRemote(msg.userId, {}, true);
    moveCursor(msg.userId, position, false);
  }

  function onError(msg) {
    var code = typeof msg.code === 'string' ? msg.code : 'ERROR';
    var forThisRoom = msg.roomId === undefined || msg.roomId === roomId;
    if (code === 'ROOM_CLOSED' && forThisRoom) {
      joined = false;
      roomClosed = true;
      clearRemotes();
      renderPresence();
      setStatus('closed', 'room closed');
      showNotice('An operator closed this room.', true);
    } else if (code === 'INVALID_API_KEY') {
      keyRejected = true; // the server closes the socket next
    } else if (code === 'ROOM_FULL' && forThisRoom) {
      showNotice('This room is full. You will join as soon as a seat is free.', false);
    } else if (forThisRoom) {
      showNotice('Server error ' + code + (typeof msg.message === 'string' ? ': ' + msg.message : ''), false);
    }
  }

  function cursorPosition(value) {
    if (!value || typeof value !== 'object') return null;
    if (typeof value.x === 'number' && typeof value.y === 'number' && isFinite(value.x) && isFinite(value.y)) {
      return { x: clamp01(value.x), y: clamp01(value.y) };
    }
    return value.position ? cursorPosition(value.position) : null;
  }

  // ---- remote users: presence chips and cursors ----

  function upsertRemote(id, metadata, replace) {
    if (!isValidId(id)) return;
    var remote = remotes.get(id);
    if (!remote) {
      remote = createRemote(id);
      remotes.set(id, remote);
    }
    var patch = metadata && typeof metadata === 'object' && !Array.isArray(metadata) ? metadata : {};
    remote.metadata = replace ? Object.assign({}, patch) : Object.assign({}, remote.metadata, patch);
    applyIdentity(remote);
  }

  function createRemote(id) {
    var cursor = document.createElement('div');
    cursor.className = 'cursor';
    cursor.hidden = true;
    cursor.setAttribute('data-user-id', id);
    var arrow = document.createElement('div');
    arrow.className = 'arrow';
    var label = document.createElement('span');
    label.className = 'label';
    cursor.appendChild(arrow);
    cursor.appendChild(label);
    canvas.appendChild(cursor);
    return { userId: id, metadata: {}, cursor: cursor, label: label, shown: false, x: 0, y: 0, tx: 0, ty: 0 };
  }

  function displayName(userIdValue, metadata) {
    return typeof metadata.name === 'string' && metadata.name.trim() ? metadata.name.slice(0, 60) : userIdValue;
  }

  function applyIdentity(remote) {
    remote.label.textContent = displayName(remote.userId, remote.metadata);
    remote.cursor.style.setProperty('--c', validColor(remote.metadata.color) || DEFAULT_COLOR);
  }

  function removeRemote(id) {
    var remote = remotes.get(id);
    if (!remote) return;
    remote.cursor.remove();
    remotes.delete(id);
  }

  function clearRemotes() {
    remotes.forEach(function (remote) { remote.cursor.remove(); });
    remotes.clear();
  }

  function renderPresence() {
    presenceList.textContent = '';
    if (joined) presenceList.appendChild(chip(userId, name + ' (you)', color, true));
    remotes.forEach(function (remote) {
      presenceList.appendChild(chip(remote.userId, displayName(remote.userId, remote.metadata),
        validColor(remote.metadata.color) || DEFAULT_COLOR, false));
    });
    $('member-count').textContent = String(joined ? remotes.size + 1 : 0);
  }

  function chip(id, label, chipColor, self) {
    var li = document.createElement('li');
    li.className = self ? 'chip self' : 'chip';
    li.setAttribute('data-user-id', id);
    var dot = document.createElement('span');
    dot.className = 'dot';
    dot.style.setProperty('--c', chipColor);
    var text = document.createElement('span');
    text.className = 'name';
    text.textContent = label;
    li.appendChild(dot);
    li.appendChild(text);
    return li;
  }

  // ---- cursor interpolation: remote cursors glide to the latest position ----

  var frame = 0;
  var lastFrameAt = 0;

  function moveCursor(id, position, jump) {
    var remote = remotes.get(id);
    if (!remote) return;
    remote.tx = position.x;
    remote.ty = position.y;
    if (!remote.shown || jump) {
      remote.x = remote.tx;
      remote.y = remote.ty;
    }
    remote.shown = true;
    remote.cursor.hidden = false;
    placeCursor(remote);
    animate();
  }

  function hideCursor(id) {
    var remote = remotes.get(id);
    if (!remote) return;
    remote.shown = false;
    remote.cursor.hidden = true;
  }

  function placeCursor(remote) {
    var x = remote.x * canvas.clientWidth;
    var y = remote.y * canvas.clientHeight;
    remote.cursor.style.transform = 'translate(' + x.toFixed(1) + 'px,' + y.toFixed(1) + 'px)';
  }

  function animate() {
    if (!frame) frame = window.requestAnimationFrame(step);
  }

  function step(now) {
    frame = 0;
    var dt = lastFrameAt ? Math.min(100, now - lastFrameAt) : 16;
    var k = 1 - Math.exp(-dt / 60); // time-based easing: same speed at any frame rate
    var moving = false;
    remotes.forEach(function (remote) {
      if (!remote.shown) return;
      var dx = remote.tx - remote.x;
      var dy = remote.ty - remote.y;
      if (Math.abs(dx) + Math.abs(dy) < 0.0005) {
        remote.x = remote.tx;
        remote.y = remote.ty;
      } else {
        remote.x += dx * k;
        remote.y += dy * k;
        moving = true;
      }
      placeCursor(remote);
    });
    if (moving) {
      lastFrameAt = now;
      animate();
    } else {
      lastFrameAt = 0;
    }
  }

  // ---- local cursor: throttled to one move per 50 ms, the last position always sent ----

  var pendingPosition = null;
  var cursorTimer = null;
  var lastCursorSentAt = 0;

  function onPointerMove(event) {
    var rect = canvas.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) return;
    pendingPosition = {
      x: Math.round(clamp01((event.clientX - rect.left) / rect.width) * 10000) / 10000,
      y: Math.round(clamp01((event.clientY - rect.top) / rect.height) * 10000) / 10000
    };
    if (cursorTimer === null) {
      var wait = Math.max(0, lastCursorSentAt + CURSOR_THROTTLE_MS - Date.now());
      cursorTimer = window.setTimeout(flushCursor, wait);
    }
  }

  function flushCursor() {
    cursorTimer = null;
    if (pendingPosition && joined) {
      send({ type: 'cursor:move', roomId: roomId, position: pendingPosition });
      lastCursorSentAt = Date.now();
    }
    pendingPosition = null;
  }

  function onPointerLeave() {
    window.clearTimeout(cursorTimer);
    cursorTimer = null;
    pendingPosition = null;
    if (joined) send({ type: 'cursor:leave', roomId: roomId });
  }

  // ---- name and colour: an edit is a presence:update patch ----

  var presenceTimer = null;
  var presencePatch = {};

  function queuePresence(patch) {
    Object.assign(presencePatch, patch);
    window.clearTimeout(presenceTimer);
    presenceTimer = window.setTimeout(function () {
      var metadata = presencePatch;
      presencePatch = {};
      if (joined) send({ type: 'presence:update', roomId: roomId, metadata: metadata });
    }, PRESENCE_DEBOUNCE_MS);
  }

  function onNameInput() {
    var value = validName($('name').value);
    if (!value || value === name) return;
    name = value;
    store.set('flock.name', name);
    renderPresence();
    queuePresence({ name: name });
  }

  function onColorInput() {
    var value = validColor($('color').value);
    if (!value || value === color) return;
    color = value;
    store.set('flock.color', color);
    renderPresence();
    queuePresence({ color: color });
  }

  // ---- API key form: the key comes from the user (or ?apiKey=), never from the page ----

  function showKeyForm(error) {
    $('key-error').textContent = error || '';
    $('key-form').hidden = false;
    $('api-key').focus();
  }

  function onKeySubmit(event) {
    event.preventDefault();
    var value = $('api-key').value.trim();
    if (!value) return;
    apiKey = value;
    store.set('flock.apiKey', apiKey);
    keyRejected = false;
    attempt = 0;
    $('key-form').hidden = true;
    if (ws) ws.close(1000, 'new api key'); else connect();
  }

  // ---- page lifecycle: leave on pagehide (not on visibility changes), come back on pageshow ----

  function onPageHide() {
    pageHidden = true;
    if (joined) send({ type: 'leave', roomId: roomId });
    joined = false;
    if (ws) ws.close(1000, 'page hidden');
  }

  function onPageShow(event) {
    if (!event.persisted) return; // restored from the back/forward cache
    pageHidden = false;
    attempt = 0;
    connect();
  }

  function onRejoin() {
    roomClosed = false;
    hideNotice();
    if (isOpen()) sendJoin(); else connect();
  }

  // ---- start ----

  function renderStatic() {
    $('room-id').textContent = roomId;
    $('name').value = name;
    $('color').value = color;
    var share = new URL(window.location.pathname, window.location.origin);
    share.searchParams.set('room', roomId); // never the API key
    $('share-link').value = share.href;
    var privateRoom = new URL(window.location.pathname, window.location.origin);
    privateRoom.searchParams.set('room', PRIVATE_ROOM_PREFIX + randomId(6));
    $('private-room').href = privateRoom.href;
    renderPresence();
  }

  function copyShareLink() {
    var input = $('share-link');
    var fallback = function () { input.select(); try { document.execCommand('copy'); } catch (e) { /* selected at least */ } };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).catch(fallback);
    } else {
      fallback();
    }
  }

  function loadConfig() {
    return window.fetch('api/demo-config', { cache: 'no-store', credentials: 'same-origin' })
      .then(function (res) { return res.ok ? res.json() : {}; })
      .catch(function () { return {}; })
      .then(function (json) { return json && typeof json === 'object' ? json : {}; });
  }

  canvas.addEventListener('pointermove', onPointerMove);
  canvas.addEventListener('pointerleave', onPointerLeave);
  $('name').addEventListener('input', onNameInput);
  $('color').addEventListener('input', onColorInput);
  $('key-form').addEventListener('submit', onKeySubmit);
  $('rejoin').addEventListener('click', onRejoin);
  $('copy-link').addEventListener('click', copyShareLink);
  window.addEventListener('pagehide', onPageHide);
  window.addEventListener('pageshow', onPageShow);
  window.addEventListener('resize', function () { remotes.forEach(placeCursor); });
  window.addEventListener('online', function () { if (ws === null && !pageHidden && !keyRejected) { attempt = 0; connect(); } });

  renderStatic();
  loadConfig().then(function (loaded) {
    config = loaded;
    if (typeof config.instanceCount === 'number') {
      $('instance-count').textContent = String(config.instanceCount);
      $('instance-word').textContent = config.instanceCount === 1 ? 'instance' : 'instances';
      $('instances-stat').hidden = false;
    }
    if (config.tokenRequired === true) {
      // FLOCK_AUTH=required: only the app's backend can sign a token, and this page has none
      setStatus('error', 'signed token required (FLOCK_AUTH=required)');
    } else if (config.apiKeyRequired === true && !apiKey) {
      setStatus('disconnected', 'API key needed');
      showKeyForm('');
    } else {
      connect();
    }
  });
})();
