// Herald chat room client.
//
// Plain JavaScript against the official Socket.IO client (loaded from
// /socket.io/socket.io.js before this file): no build step, no framework.
// Everything a user typed reaches the page through textContent (never
// parsed as markup), so it is always shown as text.
(function () {
  'use strict';

  // The list keeps at most this many lines so a long-open tab stays light.
  var MAX_LINES = 500;
  var ACK_TIMEOUT_MS = 5000;

  var numUsers = document.getElementById('num-users');
  var messages = document.getElementById('messages');
  var form = document.getElementById('form');
  var input = document.getElementById('m');
  var button = form.querySelector('button');
  var statusLine = document.getElementById('status');
  // The signed-in user's name, rendered by the server; used to recognise
  // our own message when its ack was lost.
  var me = messages.getAttribute('data-username') || '';

  // Ids of chat lines already shown: 'history' after a reconnect repeats
  // messages we have, and a message can arrive live and in history.
  var seen = new Set();
  var sending = false;
  // Text whose send was not confirmed; cleared if it shows up after all.
  var unconfirmed = null;
  var wasDisconnected = false;
  var statusTimer = null;

  var socket = io();

  function showStatus(text, kind, clearAfterMs) {
    clearTimeout(statusTimer);
    statusLine.textContent = text;
    statusLine.className = 'status ' + (kind || 'info');
    statusLine.hidden = false;
    if (clearAfterMs) {
      statusTimer = setTimeout(hideStatus, clearAfterMs);
    }
  }

  function hideStatus() {
    clearTimeout(statusTimer);
    statusLine.hidden = true;
    statusLine.textContent = '';
  }

  function scrollToBottom() {
    messages.scrollTop = messages.scrollHeight;
  }

  function trim() {
    while (messages.children.length > MAX_LINES) {
      messages.removeChild(messages.firstElementChild);
    }
  }

  function appendLine(className, text) {
    var li = document.createElement('li');
    li.className = className;
    li.textContent = text;
    messages.appendChild(li);
    trim();
    scrollToBottom();
  }

  // addChat shows one chat message unless it is already on screen. Lines are
  // kept in id order, so history that arrives after live messages still
  // lands above them.
  function addChat(msg) {
    if (!msg || msg.id === undefined || msg.id === null) {
      return;
    }
    var id = Number(msg.id);
    if (seen.has(id)) {
      return;
    }
    seen.add(id);

    var li = document.createElement('li');
    li.className = 'chat';
    li.setAttribute('data-id', String(id));
    var name = document.createElement('span');
    name.className = 'username';
    name.textContent = String(msg.username);
    var text = document.createElement('span');
    text.className = 'text';
    text.textContent = String(msg.message);
    li.appendChild(name);
    li.appendChild(document.createTextNode(': '));
    li.appendChild(text);
    var when = new Date(msg.time);
    if (!isNaN(when.getTime())) {
      li.title = when.toLocaleString();
    }

    var before = null;
    for (var node = messages.lastElementChild; node; node = node.previousElementSibling) {
      if (node.classList.contains('chat')) {
        if (Number(node.getAttribute('data-id')) > id) {
          before = node;
        } else {
          break;
        }
      }
    }
    messages.insertBefore(li, before);
    trim();
    scrollToBottom();

    // A send whose ack timed out may still have been stored: seeing it
    // come back means it was, so the text must not be sent twice.
    if (unconfirmed !== null && msg.username === me && msg.message === unconfirmed) {
      if (input.value === unconfirmed) {
        input.value = '';
      }
      unconfirmed = null;
      hideStatus();
    }
  }

  function setConnected(connected) {
    button.disabled = !connected || sending;
  }

  socket.on('connect', function () {
    setConnected(true);
    if (wasDisconnected) {
      wasDisconnected = false;
      showStatus('Reconnected', 'ok', 3000);
    }
  });

  socket.io.on('reconnect', function () {
    showStatus('Reconnected', 'ok', 3000);
  });

  socket.on('disconnect', function (reason) {
    wasDisconnected = true;
    setConnected(false);
    showStatus('Connection lost — reconnecting…', 'warn');
    // The server ended this socket on purpose (for example, a logout in
    // another tab): the client will not retry by itself. Try again after a
    // pause; if the session is gone, connect_error sends us to the home
    // page. The pause stops a tight loop if the server keeps refusing.
    if (reason === 'io server disconnect') {
      setTimeout(function () {
        socket.connect();
      }, 1000);
    }
  });

  socket.on('connect_error', function (err) {
    if (err && err.message === 'unauthorized') {
      window.location.assign('/');
      return;
    }
    wasDisconnected = true;
    setConnected(false);
    showStatus('Connection lost — reconnecting…', 'warn');
  });

  socket.on('user count', function (n) {
    numUsers.textContent = n === 1 ? '1 user online' : n + ' users online';
  });

  socket.on('user', function (data) {
    if (!data) {
      return;
    }
    var name = String(data.username);
    if (data.connected) {
      appendLine('join', name + ' has joined the chat.');
    } else {
      appendLine('leave', name + ' has left the chat.');
    }
  });

  socket.on('chat message', addChat);

  socket.on('history', function (msgs) {
    if (!Array.isArray(msgs)) {
      return;
    }
    msgs.forEach(addChat);
  });

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var text = input.value;
    if (sending || text.trim() === '') {
      return;
    }
    // While offline, keep the text rather than queue it: a queued emit
    // whose ack times out looks failed, and re-sending it would double it.
    if (!socket.connected) {
      showStatus('Not connected — your message is kept; send it again once reconnected.', 'warn');
      return;
    }
    sending = true;
    button.disabled = true;
    socket.timeout(ACK_TIMEOUT_MS).emit('chat message', text, function (err, ack) {
      sending = false;
      setConnected(socket.connected);
      if (err) {
        unconfirmed = text;
        showStatus('Message not confirmed by the server — it is kept in the box; check before sending it again.', 'error');
        return;
      }
      if (!ack || ack.ok !== true) {
        var why = ack && ack.error ? String(ack.error) : 'unknown error';
        showStatus('Message not sent: ' + why, 'error');
        return;
      }
      unconfirmed = null;
      // Clear only if the user has not started typing something else.
      if (input.value === text) {
        input.value = '';
      }
      if (statusLine.classList.contains('error')) {
        hideStatus();
      }
      input.focus();
    });
  });

  setConnected(false);
})();
