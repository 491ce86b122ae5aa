// Flock admin dashboard: keeps the server-rendered page fresh from GET /api/admin/rooms.
// Every user-controlled string goes through textContent; colours are validated before CSS use.
(function () {
  'use strict';

  var REFRESH_MS = 3000;
  var COLOR = /^#[0-9a-fA-F]{6}$/;
  var IDENTITY = /^[a-z]+$/;
  var csrfMeta = document.querySelector('meta[name="flock-csrf"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute('content') : '';
  var tbody = document.getElementById('rooms');
  var refreshState = document.getElementById('refresh-state');
  var lastStructure = null;

  function applySwatches(root) {
    root.querySelectorAll('.swatch[data-color]').forEach(function (el) {
      var color = el.getAttribute('data-color');
      if (COLOR.test(color)) el.style.backgroundColor = color;
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function hidden(name, value) {
    var input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    input.value = value;
    return input;
  }

  function displayName(m) {
    return typeof m.name === 'string' && m.name ? m.name : m.userId;
  }

  function cursorAge(lastCursorAt, now) {
    if (typeof lastCursorAt !== 'number') return 'no cursor';
    var s = Math.max(0, Math.floor((now - lastCursorAt) / 1000));
    if (s < 60) return s + 's ago';
    return s < 3600 ? Math.floor(s / 60) + 'm ago' : Math.floor(s / 3600) + 'h ago';
  }

  function memberItem(m) {
    var li = el('li', 'member');
    try { li.title = JSON.stringify(m.metadata).slice(0, 300); } catch (e) { /* leave untitled */ }
    var swatch = el('span', 'swatch');
    if (typeof m.color === 'string' && COLOR.test(m.color)) swatch.style.backgroundColor = m.color;
    li.appendChild(swatch);
    li.appendChild(el('span', 'name', displayName(m)));
    li.appendChild(document.createTextNode(' '));
    li.appendChild(el('span', 'uid', m.userId));
    if (typeof m.identity === 'string' && IDENTITY.test(m.identity)) {
      // the same badge as the server-rendered page, so a refresh does not drop it
      li.appendChild(document.createTextNode(' '));
      li.appendChild(el('span', 'identity ' + m.identity, m.identity));
    }
    return li;
  }

  // data-label: the cell's heading when admin.css stacks rows as cards on a narrow screen
  function cell(className, label, text) {
    var td = el('td', className, text);
    td.setAttribute('data-label', label);
    return td;
  }

  function roomRow(room, now) {
    var tr = el('tr', 'room');
    var idCell = cell(null, 'Room');
    idCell.appendChild(el('code', 'room-id', room.roomId));
    tr.appendChild(idCell);
    tr.appendChild(cell('count', 'Users', room.memberCount));
    var membersCell = cell(null, "Who's here");
    var members = el('ul', 'members');
    var activity = el('ul', 'activity');
    room.members.forEach(function (m) {
      members.appendChild(memberItem(m));
      activity.appendChild(el('li', null, displayName(m) + ': ' + cursorAge(m.lastCursorAt, now)));
    });
    membersCell.appendChild(members);
    tr.appendChild(membersCell);
    var activityCell = cell(null, 'Cursor activity');
    activityCell.appendChild(activity);
    tr.appendChild(activityCell);
    var actions = el('td', 'actions');
    var form = el('form', 'close-room');
    form.method = 'post';
    form.action = 'api/admin/close-room';
    form.appendChild(hidden('csrf', csrf));
    form.appendChild(hidden('roomId', room.roomId));
    var button = el('button', 'danger', 'Close room');
    button.type = 'submit';
    form.appendChild(button);
    actions.appendChild(form);
    tr.appendChild(actions);
    return tr;
  }

  function render(data) {
    ['rooms', 'members', 'activeCursors', 'instances'].forEach(function (key) {
      var id = { rooms: 'stat-rooms', members: 'stat-members', activeCursors: 'stat-cursors', instances: 'stat-instances' }[key];
      var node = document.getElementById(id);
      if (node) node.textContent = String(data.totals[key]);
    });
    if (data.webhooks) {
      var pending = document.getElementById('stat-webhooks');
      if (pending) pending.textContent = String(data.webhooks.pending);
      var failure = document.getElementById('webhook-failure');
      if (failure) failure.textContent = 'Last webhook failure: ' + (data.webhooks.lastFailure || 'none');
    }
    // Rows are rebuilt only when something other than cursor times changed, so a click on a
    // "Close room" button is not lost to a refresh; otherwise only the activity lists change.
    var structure = JSON.stringify(data.rooms.map(function (r) {
      return [r.roomId, r.members.map(function (m) { return [m.userId, m.name, m.color, m.metadata]; })];
    }));
    if (structure === lastStructure) {
      var rows = tbody.querySelectorAll('tr.room');
      data.rooms.forEach(function (room, i) {
        var list = rows[i] && rows[i].querySelector('ul.activity');
        if (!list) return;
        list.textContent = '';
        room.members.forEach(function (m) {
          list.appendChild(el('li', null, displayName(m) + ': ' + cursorAge(m.lastCursorAt, data.now)));
        });
      });
      return;
    }
    lastStructure = structure;
    tbody.textContent = '';
    if (data.rooms.length === 0) {
      var empty = el('tr', 'empty');
      var cell = el('td', null, 'No active rooms');
      cell.colSpan = 5;
      empty.appendChild(cell);
      tbody.appendChild(empty);
    }
    data.rooms.forEach(function (room) { tbody.appendChild(roomRow(room, data.now)); });
  }

  function refresh() {
    fetch('api/admin/rooms', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (res) {
        if (res.status === 401) { window.location.reload(); return null; }
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (data) {
        if (!data) return;
        render(data);
        refreshState.textContent = 'live · updated ' + new Date().toLocaleTimeString();
      })
      .catch(function () { refreshState.textContent = 'refresh failed, retrying'; })
      .finally(function () { window.setTimeout(refresh, REFRESH_MS); });
  }

  applySwatches(document);
  if (tbody) window.setTimeout(refresh, REFRESH_MS);
})();
