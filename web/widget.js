/*
 * Switchboard chat widget. Plain JavaScript, no build step. Embed it with one tag:
 *
 *   <script src="https://switchboard.example.com/widget.js" data-widget-key="KEY"></script>
 *
 * It talks to the public widget API (/public/chat/v1) of the server it was loaded from (or of
 * data-api-base). The session id and visitor token are kept in localStorage, so a reload
 * resumes the chat: the transcript is read again from the start of the stream. Messages are
 * shown live through EventSource; since EventSource sends no headers, the visitor token goes
 * as ?token= on the stream (the only route that accepts it there). Every other call sends it
 * as Authorization: Bearer.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var widgetKey = script.getAttribute("data-widget-key");
  if (!widgetKey) { console.error("switchboard widget: data-widget-key is missing"); return; }
  var base = (script.getAttribute("data-api-base") || new URL(script.src, location.href).origin).replace(/\/$/, "");
  var api = base + "/public/chat/v1";
  var storeKey = "switchboard-chat:" + widgetKey;

  var session = load();   // {id, token}
  var source = null;      // the EventSource
  var shown = {};         // seq -> true: messages on screen
  var closed = false;

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || null; } catch (e) { return null; }
  }
  function save(s) {
    session = s;
    if (s) { localStorage.setItem(storeKey, JSON.stringify(s)); } else { localStorage.removeItem(storeKey); }
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "m-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  // --- the panel
  var css = "#sbw-button{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:24px;" +
    "padding:12px 18px;background:#1f6feb;color:#fff;font:600 14px system-ui,sans-serif;cursor:pointer}" +
    "#sbw-panel{position:fixed;right:20px;bottom:76px;z-index:2147483000;width:340px;max-width:calc(100vw - 40px);" +
    "height:460px;display:none;flex-direction:column;background:#fff;border:1px solid #d0d7de;border-radius:10px;" +
    "box-shadow:0 8px 24px rgba(0,0,0,.15);font:14px system-ui,sans-serif;color:#1f2328}" +
    "#sbw-panel.sbw-open{display:flex}#sbw-head{padding:10px 12px;border-bottom:1px solid #d0d7de;font-weight:600}" +
    "#sbw-status{font-weight:400;font-size:12px;color:#57606a}#sbw-messages{flex:1;overflow-y:auto;padding:10px}" +
    ".sbw-msg{margin:6px 0;padding:6px 9px;border-radius:8px;max-width:85%;word-wrap:break-word}" +
    ".sbw-role-customer{background:#ddf4ff;margin-left:auto}.sbw-role-agent{background:#f6f8fa}" +
    ".sbw-role-system{color:#57606a;font-size:12px;text-align:center;max-width:100%}" +
    ".sbw-msg p{margin:0}#sbw-start input{width:100%;box-sizing:border-box;margin:3px 0;padding:6px}" +
    "#sbw-start{padding:0 10px}#sbw-form{display:flex;gap:4px;padding:8px;border-top:1px solid #d0d7de}" +
    "#sbw-input{flex:1;padding:6px}#sbw-error{color:#cf222e;font-size:12px;padding:0 10px}";
  var style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);

  var button = el("button", {id: "sbw-button", type: "button"}, "Chat with us");
  var panel = el("div", {id: "sbw-panel", role: "dialog", "aria-label": "Chat"});
  var head = el("div", {id: "sbw-head"}, "Chat");
  var status = el("div", {id: "sbw-status"}, "");
  head.appendChild(status);
  var welcome = el("div", {id: "sbw-welcome", "class": "sbw-msg sbw-role-system"}, "");
  var list = el("div", {id: "sbw-messages", "aria-live": "polite"});
  var start = el("div", {id: "sbw-start"});
  var nameIn = el("input", {id: "sbw-name", placeholder: "Your name (optional)", maxlength: "100"});
  var emailIn = el("input", {id: "sbw-email", type: "email", placeholder: "E-mail (optional)", maxlength: "254"});
  start.appendChild(nameIn);
  start.appendChild(emailIn);
  var error = el("div", {id: "sbw-error"}, "");
  var form = el("form", {id: "sbw-form"});
  var input = el("input", {id: "sbw-input", placeholder: "Type a message", maxlength: "10000", autocomplete: "off"});
  var file = el("input", {id: "sbw-file", type: "file", style: "width:90px"});
  var send = el("button", {id: "sbw-send", type: "submit"}, "Send");
  var restart = el("button", {id: "sbw-new", type: "button", style: "display:none"}, "New chat");
  form.appendChild(input);
  form.appendChild(file);
  form.appendChild(send);
  form.appendChild(restart);
  list.appendChild(welcome);
  panel.appendChild(head);
  panel.appendChild(list);
  panel.appendChild(start);
  panel.appendChild(error);
  panel.appendChild(form);
  document.body.appendChild(button);
  document.body.appendChild(panel);

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, k)) { e.setAttribute(k, attrs[k]); } }
    if (text) { e.textContent = text; }
    return e;
  }

  button.addEventListener("click", function () { panel.classList.toggle("sbw-open"); });
  restart.addEventListener("click", function () {
    if (source) { source.close(); }
    save(null);
    closed = false;
    shown = {};
    Array.prototype.slice.call(list.querySelectorAll(".sbw-msg[data-seq]")).forEach(function (n) { n.remove(); });
    restart.style.display = "none";
    input.disabled = send.disabled = file.disabled = false;
    start.style.display = "";
    status.textContent = "";
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    var f = file.files && file.files[0];
    if (!text && !f) { return; }
    error.textContent = "";
    send.disabled = true;
    var done = function () { send.disabled = closed; };
    var p = session ? Promise.resolve() : startSession(f ? null : text);
    p.then(function (startedWith) {
      if (startedWith === "sent") { if (input.value.trim() === text) { input.value = ""; } return; }
      var ids = f ? upload(f) : Promise.resolve([]);
      return ids.then(function (attachmentIds) {
        var body = {clientMessageId: uuid()};
        if (text) { body.body = text; }
        if (attachmentIds.length) { body.attachmentIds = attachmentIds; }
        return call("POST", "/sessions/" + session.id + "/messages", body).then(function () {
          // Clear what was sent, not what was typed or chosen while it was sending.
          if (input.value.trim() === text) { input.value = ""; }
          if (f && file.files && file.files[0] === f) { file.value = ""; }
        });
      });
    }).catch(function (e) { error.textContent = e.message; }).then(done, done);
  });

  // call sends a JSON request on the session and answers the decoded body; an error carries
  // the API's message.
  function call(method, path, body) {
    var headers = {};
    if (session) { headers.Authorization = "Bearer " + session.token; }
    var opts = {method: method, headers: headers};
    if (body instanceof FormData) {
      opts.body = body;
    } else if (body) {
      headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(api + path, opts).then(function (res) {
      return res.text().then(function (t) {
        var data = t ? JSON.parse(t) : null;
        if (!res.ok) {
          var e = new Error((data && data.error && data.error.message) || ("HTTP " + res.status));
          e.status = res.status;
          throw e;
        }
        return data;
      });
    });
  }

  function startSession(text) {
    var body = {widgetKey: widgetKey};
    if (nameIn.value.trim()) { body.name = nameIn.value.trim(); }
    if (emailIn.value.trim()) { body.email = emailIn.value.trim(); }
    if (text) { body.message = text; }
    return call("POST", "/sessions", body).then(function (res) {
      save({id: res.session.id, token: res.visitorToken});
      if (res.welcome) { welcome.textContent = res.welcome; }
      start.style.display = "none";
      showChat(res.session);
      listen();
      return text ? "sent" : "";
    });
  }

  function upload(f) {
    var fd = new FormData();
    fd.append("file", f, f.name);
    return call("POST", "/sessions/" + session.id + "/attachments", fd).then(function (res) {
      return res.attachments.map(function (a) { return a.id; });
    });
  }

  // listen opens the stream from the start: the transcript comes back in order, then live.
  // EventSource reconnects by itself with Last-Event-ID, so nothing is shown twice.
  function listen() {
    if (source) { source.close(); }
    source = new EventSource(api + "/sessions/" + session.id + "/stream?token=" + encodeURIComponent(session.token));
    source.addEventListener("message", function (ev) { showMessage(JSON.parse(ev.data)); });
    source.addEventListener("chat", function (ev) { showChat(JSON.parse(ev.data)); });
  }

  function showMessage(m) {
    if (shown[m.seq]) { return; }
    shown[m.seq] = true;
    var div = el("div", {"class": "sbw-msg sbw-role-" + m.role, "data-seq": String(m.seq)});
    if (m.html) { div.innerHTML = m.html; } else { div.textContent = m.body; } // html is sanitized by the server
    (m.attachments || []).forEach(function (a) {
      var link = el("a", {href: "#", "class": "sbw-file"}, a.filename);
      link.addEventListener("click", function (ev) { ev.preventDefault(); download(a); });
      div.appendChild(el("br", {}));
      div.appendChild(link);
    });
    var after = null;
    Array.prototype.slice.call(list.querySelectorAll(".sbw-msg[data-seq]")).some(function (n) {
      if (Number(n.getAttribute("data-seq")) > m.seq) { after = n; return true; }
      return false;
    });
    list.insertBefore(div, after);
    list.scrollTop = list.scrollHeight;
  }

  function download(a) {
    fetch(api + "/sessions/" + session.id + "/attachments/" + a.id, {headers: {Authorization: "Bearer " + session.token}})
      .then(function (res) { if (!res.ok) { throw new Error("HTTP " + res.status); } return res.blob(); })
      .then(function (b) {
        var u = URL.createObjectURL(b);
        var link = el("a", {href: u, download: a.filename});
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(u); }, 10000);
      })
      .catch(function (e) { error.textContent = e.message; });
  }

  function showChat(c) {
    panel.setAttribute("data-state", c.state);
    switch (c.state) {
      case "queued":
        status.textContent = c.queuePosition > 0 ? "Waiting for an agent (you are number " + c.queuePosition + ")" : "Waiting for an agent";
        break;
      case "offered":
        status.textContent = "Connecting you to an agent";
        break;
      case "active":
        status.textContent = "Connected";
        break;
      case "closed":
        status.textContent = "This chat has ended";
        closed = true; // the stream stays open: a resumed closed chat still reads its transcript
        input.disabled = send.disabled = file.disabled = true;
        restart.style.display = "";
        break;
    }
  }

  // Resume a stored session after a reload.
  if (session) {
    start.style.display = "none";
    panel.classList.add("sbw-open");
    call("GET", "/sessions/" + session.id).then(function (c) {
      showChat(c);
      listen();
    }).catch(function (e) {
      if (e.status === 401 || e.status === 403 || e.status === 404) {
        save(null);
        start.style.display = "";
        panel.classList.remove("sbw-open");
      } else {
        error.textContent = e.message;
      }
    });
  }
})();
