// The offline demo page: a Telegram client for one client and the staff group, drawn from the emulator's state.
// All text reaches the DOM through textContent; nothing is parsed as HTML.
"use strict";

const POLL_MS = 500;
let lastState = "";
let state = null;
let selectedThread = null; // null: the group's General topic
let staffFilled = false;
let drawnClient = null;
let drawnStaff = null;
let drawnTopics = "";

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function status(text) {
  $("status").textContent = text || "";
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    let reason = response.statusText;
    try { reason = (await response.json()).error || reason; } catch (e) { /* not JSON */ }
    status(reason);
    return false;
  }
  status("");
  return response.json();
}

// What the bot says in answerCallbackQuery: a short notice over the chat, or an alert the user must close.
function toast(text, alert) {
  if (alert) {
    window.alert(text);
    return;
  }
  const note = el("div", "toast", text);
  note.dir = "auto";
  $("client-chat").parentElement.appendChild(note);
  setTimeout(() => note.remove(), 3000);
}

function clock(seconds) {
  if (!seconds) return "";
  const d = new Date(seconds * 1000);
  return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
}

function drawKeyboard(message, chatId) {
  const keyboard = el("div", "keyboard");
  for (const row of message.keyboard) {
    const line = el("div", "row");
    for (const button of row) {
      if (button.url && /^https?:\/\//i.test(button.url)) {
        const link = el("a", "kb", button.text);
        link.href = button.url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        link.dir = "auto";
        line.appendChild(link);
        continue;
      }
      const b = el("button", "kb", button.text);
      b.type = "button";
      b.dir = "auto";
      b.dataset.data = button.data || "";
      b.disabled = !button.data;
      b.addEventListener("click", async () => {
        b.disabled = true;
        const answer = await post("/demo/api/press", {
          chat_id: chatId, message_id: message.id, data: button.data, as: Number($("staff-as").value),
        });
        if (answer && answer.answer && answer.answer.text) toast(answer.answer.text, answer.answer.show_alert);
      });
      line.appendChild(b);
    }
    keyboard.appendChild(line);
  }
  return keyboard;
}

function drawMessage(message, chatId, mine, showSender) {
  const box = el("div", "msg " + (mine ? "out" : "in") + (message.from_bot ? " bot" : " user"));
  box.dataset.id = message.id;
  const bubble = el("div", "bubble");
  if (showSender) bubble.appendChild(el("div", "sender", message.from_bot ? "kimbot" : message.sender));
  if (message.reply_to !== null) {
    const quote = el("div", "quote", message.reply_to);
    quote.dir = "auto";
    bubble.appendChild(quote);
  }
  if (message.attachment) bubble.appendChild(el("div", "attachment", "📎 " + message.attachment_label));
  if (message.text) {
    const text = el("div", "text", message.text);
    text.dir = "auto"; // Arabic, Persian, Pashto and Sorani read right to left
    bubble.appendChild(text);
  }
  const meta = [message.pinned ? "📌" : "", message.edited ? "edited" : "", clock(message.date)];
  bubble.appendChild(el("div", "meta", meta.filter(Boolean).join(" · ")));
  box.appendChild(bubble);
  if (message.keyboard.length) box.appendChild(drawKeyboard(message, chatId));
  return box;
}

// Drawn messages per chat, keyed by message id: a message is drawn again only when it changed, so buttons the
// user is about to tap stay where they are while other messages arrive.
const drawn = new Map();

function fill(container, messages, draw) {
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
  const cache = drawn.get(container.id) || new Map();
  const next = new Map();
  const nodes = messages.map((m) => {
    const key = JSON.stringify(m);
    const old = cache.get(m.id);
    const node = old && old.key === key ? old.node : draw(m);
    next.set(m.id, { key, node });
    return node;
  });
  drawn.set(container.id, next);
  nodes.forEach((node, i) => {
    if (container.children[i] !== node) container.insertBefore(node, container.children[i] || null);
  });
  while (container.children.length > nodes.length) container.lastChild.remove();
  if (atBottom) container.scrollTop = container.scrollHeight;
}

function drawClient() {
  const chatId = state.client.id;
  if (drawnClient !== chatId) {
    drawn.delete("client-chat"); // a new client: another chat
    drawnClient = chatId;
  }
  fill($("client-chat"), state.client_messages, (m) => drawMessage(m, chatId, !m.from_bot, false));
  if (document.activeElement !== $("language")) $("language").value = state.client.language;
}

function drawTopics(topics, counts) {
  const buttons = topics.map((topic) => {
    const b = el("button", "topic" + (topic.id === selectedThread ? " active" : "") + (topic.closed ? " closed" : ""));
    b.type = "button";
    b.dataset.thread = topic.id === null ? "" : String(topic.id);
    const name = el("span", "name", (topic.closed ? "🔒 " : "# ") + topic.name);
    name.dir = "auto";
    b.appendChild(name);
    b.appendChild(el("span", "count", String(counts.get(topic.id) || 0)));
    b.addEventListener("click", () => {
      selectedThread = topic.id;
      draw();
    });
    return b;
  });
  $("topics").replaceChildren(...buttons);
}

function drawStaff() {
  $("staff-title").textContent = state.staff_chat.title;
  if (!staffFilled) {
    for (const member of state.staff) {
      const option = el("option", null, member.name);
      option.value = member.id;
      $("staff-as").appendChild(option);
    }
    staffFilled = true;
  }
  const counts = new Map();
  for (const m of state.staff_messages) counts.set(m.thread_id, (counts.get(m.thread_id) || 0) + 1);
  const topics = [{ id: null, name: "General", closed: false }, ...state.topics];
  if (!topics.some((t) => t.id === selectedThread)) selectedThread = null;
  const topicsKey = JSON.stringify([topics, selectedThread, [...counts]]);
  if (topicsKey !== drawnTopics) {
    drawnTopics = topicsKey;
    drawTopics(topics, counts);
  }
  const current = topics.find((t) => t.id === selectedThread);
  $("topic-title").textContent = current.name;
  $("topic-title").dir = "auto";
  const me = Number($("staff-as").value);
  if (drawnStaff !== `${selectedThread}:${me}`) {
    drawn.delete("staff-chat"); // another topic, or another person's view of who is "me"
    drawnStaff = `${selectedThread}:${me}`;
  }
  const shown = state.staff_messages.filter((m) => (m.thread_id ?? null) === selectedThread);
  fill($("staff-chat"), shown, (m) => drawMessage(m, state.staff_chat.id, m.sender_id === me, true));
}

function draw() {
  if (!state) return;
  drawClient();
  drawStaff();
}

async function poll() {
  try {
    const response = await fetch("/demo/api/state", { cache: "no-store" });
    const text = await response.text();
    if (text !== lastState) {
      lastState = text;
      state = JSON.parse(text);
      draw();
    }
  } catch (e) {
    status("The demo is not answering – is `kimbot demo` still running?");
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

function wire() {
  $("client-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("client-input").value;
    if (!text.trim()) return;
    if (await post("/demo/api/send", { chat: "client", text })) $("client-input").value = "";
  });
  $("staff-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("staff-input").value;
    if (!text.trim()) return;
    const body = { chat: "staff", text, thread_id: selectedThread, as: Number($("staff-as").value) };
    if (await post("/demo/api/send", body)) $("staff-input").value = "";
  });
  $("language").addEventListener("change", () => post("/demo/api/language", { language: $("language").value }));
  $("staff-as").addEventListener("change", () => draw());
  $("new-client").addEventListener("click", () => post("/demo/api/new-client", {}));
  poll();
}

document.addEventListener("DOMContentLoaded", wire);
