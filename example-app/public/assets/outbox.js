// The dev outbox page: lists the messages the example app kept instead of sending them.
import { api, formatTime, hide, showError } from './api.js';

const $ = (id) => document.getElementById(id);

function render(message) {
  const li = document.createElement('li');
  li.className = 'card outbox-message';
  li.dataset.channel = message.channel;
  li.dataset.to = message.to;
  const head = document.createElement('p');
  const kind = message.channel === 'email' ? 'Email' : 'Text message';
  head.textContent = `${kind} to ${message.to} · ${formatTime(message.at)}`;
  head.className = 'outbox-head';
  li.append(head);
  if (message.subject) {
    const subject = document.createElement('h2');
    subject.className = 'outbox-subject';
    subject.textContent = message.subject;
    li.append(subject);
  }
  const body = document.createElement('pre');
  body.className = 'outbox-text';
  body.textContent = message.text; // the text version: never inject a message's HTML into this page
  li.append(body);
  return li;
}

async function refresh() {
  try {
    const { messages } = await api('GET', '/dev/outbox.json');
    $('outbox-messages').replaceChildren(...messages.map(render));
    $('outbox-empty').hidden = messages.length > 0;
    hide($('error'));
  } catch (err) {
    showError($('error'), err);
  }
}

await refresh();
setInterval(refresh, 2000);
