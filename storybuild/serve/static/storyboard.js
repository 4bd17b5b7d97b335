// Reroll buttons: start a job, follow it over server-sent events, then swap in the new artifacts.
(function () {
  "use strict";
  const story = document.body.dataset.story;

  function fresh(url) {
    return url.split("?")[0] + "?v=" + Date.now();
  }

  function refresh(paths) {
    for (const path of paths) {
      for (const el of document.querySelectorAll('[data-path="' + CSS.escape(path) + '"]')) {
        const url = "/api/artifacts/" + story + "/" + path;
        if (el.classList.contains("missing")) {
          const tag = path.endsWith(".png") ? "img" : path.endsWith(".wav") ? "audio" : "video";
          const media = document.createElement(tag);
          media.dataset.path = path;
          if (tag !== "img") media.controls = true;
          media.src = fresh(url);
          el.replaceWith(media);
        } else if (el.src !== undefined && el.tagName !== "BUTTON") {
          el.src = fresh(el.src || url);
          if (el.load && el.tagName !== "IMG") el.load();
        }
      }
    }
  }

  function show(status, job, button) {
    const pct = Math.round((job.progress || 0) * 100);
    status.className = "job " + job.status;
    status.innerHTML = "";
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = pct;
    status.appendChild(bar);
    const words = job.status === "failed" && job.error ? job.error.message : job.status + " " + pct + "%";
    status.appendChild(document.createTextNode(words));
    status.dataset.status = job.status;
    status.dataset.job = job.job_id;
    if (["completed", "failed", "cancelled"].includes(job.status)) {
      button.disabled = false;
      const made = ((job.result || {}).artifacts || []).map((a) => a.path);
      refresh(job.status === "completed" ? made.concat([button.dataset.path]) : made);
    }
  }

  async function reroll(button) {
    const stage = button.dataset.stage, item = button.dataset.item;
    const status = button.nextElementSibling;
    button.disabled = true;
    status.textContent = "starting";
    const answer = await fetch("/api/reroll/" + story + "/" + stage + "/" + encodeURIComponent(item), {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ priority: "high" }),
    });
    const body = await answer.json();
    if (!answer.ok) {
      status.textContent = body.detail || "refused";
      button.disabled = false;
      return;
    }
    const source = new EventSource("/api/jobs/" + body.job_id + "/events");
    source.addEventListener("status", (event) => {
      const job = JSON.parse(event.data);
      show(status, job, button);
      if (["completed", "failed", "cancelled"].includes(job.status)) source.close();
    });
    source.onerror = () => { if (!button.disabled) source.close(); };
  }

  for (const button of document.querySelectorAll("button.reroll")) {
    button.addEventListener("click", () => reroll(button));
  }
})();
