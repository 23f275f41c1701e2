// Progressive enhancement only: without this script the form posts and the server answers with the page.
// The answer is the same server-rendered, escaped page; this script swaps its <main> in without a reload,
// shows a loading state and says a network error in words. It never builds markup from data.
(function () {
  document.documentElement.classList.add('has-js');
  function say(text, cls) {
    const p = document.createElement('p');
    p.textContent = text;
    if (cls) p.className = cls;
    document.getElementById('status').replaceChildren(p);
  }
  function readInto(box, f) {
    if (!f) return;
    f.text().then(function (t) {
      box.value = t;
      say('File ' + f.name + ' read (' + t.length + ' characters). Press "Show the options".', 'notice');
    }, function () { say('The file could not be read.', 'error-box'); });
  }
  async function submit(form, e) {
    e.preventDefault();
    const data = new FormData(form);
    const button = e.submitter;
    if (button && button.name) data.set(button.name, button.value);
    const buttons = form.querySelectorAll('button');
    buttons.forEach(function (b) { b.disabled = true; });
    form.setAttribute('aria-busy', 'true');
    say('Working out the options…', 'loading');
    let response, text;
    try {
      response = await fetch(form.getAttribute('action'), {method: 'POST', body: data});
      text = await response.text();
    } catch (err) {
      say('The service could not be reached (' + err.message + '). Your entries are kept: try again.', 'error-box');
      return;
    } finally {
      buttons.forEach(function (b) { b.disabled = false; });
      form.removeAttribute('aria-busy');
    }
    const doc = new DOMParser().parseFromString(text, 'text/html');
    const main = doc.querySelector('main');
    if (!main || !main.querySelector('#case-form')) {
      say('The service answered with an error (HTTP ' + response.status + '). Your entries are kept: try again.', 'error-box');
      return;
    }
    document.title = doc.title;
    document.querySelector('main').replaceWith(document.adoptNode(main));
    init();
    const target = document.getElementById('error-summary') ||
      (document.querySelector('#results .plan') ? document.getElementById('results') : null);
    if (target) target.focus();
  }
  function init() {
    const form = document.getElementById('case-form');
    const box = document.getElementById('case_json');
    const zone = document.getElementById('drop-zone');
    const file = document.getElementById('case_file');
    form.addEventListener('submit', function (e) { submit(form, e); });
    ['dragenter', 'dragover'].forEach(function (ev) {
      zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.add('dragging'); });
    });
    ['dragleave', 'drop'].forEach(function (ev) {
      zone.addEventListener(ev, function () { zone.classList.remove('dragging'); });
    });
    zone.addEventListener('drop', function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) readInto(box, e.dataTransfer.files[0]);
    });
    file.addEventListener('change', function () { readInto(box, file.files[0]); file.value = ''; });
    document.getElementById('example').addEventListener('change', function (e) {
      if (e.target.value) form.querySelector('button[value=load]').click();
    });
  }
  document.addEventListener('click', function (e) {
    if (e.target && e.target.matches && e.target.matches('[data-print]')) window.print();
  });
  init();
})();
