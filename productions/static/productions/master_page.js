/*
 * The master page: tag inputs and the fragment cutter.
 *
 * Plain JavaScript from our own origin (the CSP allows no inline script). Everything
 * here only sets the form's own inputs (tags as hidden inputs, cuts as the rows'
 * start/end seconds), so the page saves through the services as without it.
 */
(function () {
  "use strict";

  // --- Tag inputs ------------------------------------------------------------------
  function addTag(box, text) {
    const name = box.dataset.name;
    const chipsEl = box.querySelector(".ce-tags-chips");
    const existing = Array.from(box.querySelectorAll("[data-ce-tag] input")).map(
      (input) => input.value
    );
    text.split(box.dataset.words === "1" ? /[,\s]+/ : /[,\n]+/).forEach((raw) => {
      const tag = raw.trim();
      if (!tag || existing.includes(tag)) return;
      existing.push(tag);
      const chip = document.createElement("span");
      chip.className =
        "ce-tag inline-flex items-center gap-1 font-semibold rounded-default text-xs h-7 px-2 bg-primary-100 text-primary-700";
      chip.dataset.ceTag = "";
      const label = document.createElement("span");
      label.className = "ce-tag-text";
      label.textContent = tag;
      const hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = name;
      hidden.value = tag;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "ce-tag-remove";
      remove.dataset.ceTagRemove = "";
      remove.setAttribute("aria-label", "Remove " + tag);
      remove.textContent = "×";
      chip.append(label, hidden, remove);
      chipsEl.append(chip);
    });
  }

  function setupTags(box) {
    const entry = box.querySelector("[data-ce-tag-entry]");
    box.addEventListener("click", (event) => {
      const button = event.target.closest("[data-ce-tag-remove]");
      if (button) {
        button.closest("[data-ce-tag]").remove();
        entry.focus();
      }
    });
    entry.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === ",") {
        event.preventDefault(); // Enter would submit the whole page
        addTag(box, entry.value);
        entry.value = "";
      } else if (event.key === "Backspace" && entry.value === "") {
        const chips = box.querySelectorAll("[data-ce-tag]");
        if (chips.length) chips[chips.length - 1].remove();
      }
    });
    entry.addEventListener("blur", () => {
      if (entry.value.trim()) {
        addTag(box, entry.value);
        entry.value = "";
      }
    });
  }

  // --- The fragment cutter ---------------------------------------------------------
  const TYPE_CLASSES = ["hook", "body", "cta", "outro"];

  function setupCutter(panel) {
    const duration = parseFloat(panel.dataset.duration);
    const fps = parseFloat(panel.dataset.fps) || 25;
    const frame = 1 / fps;
    const frameBase = panel.dataset.frameBase;
    const video = panel.querySelector("[data-ce-video]");
    const timeline = panel.querySelector("[data-ce-timeline]");
    const bars = panel.querySelector("[data-ce-bars]");
    const playhead = panel.querySelector("[data-ce-playhead]");
    const clock = panel.querySelector("[data-ce-time]");
    const group = panel.closest("[data-inline-type]") || document;
    const stripImages = Array.from(panel.querySelectorAll("[data-ce-strip] img"));
    stripImages.forEach((img) => (img.draggable = false));
    let stopAt = null;

    const snap = (t) => Math.round(t * fps) / fps;
    const clamp = (t, low, high) => Math.min(Math.max(t, low), high);
    const lastFrame = () => duration; // a cut may end at the very end
    const shown = (t) => String(Number(t.toFixed(3)));
    const pct = (t) => (100 * t) / duration + "%";

    function rows() {
      return Array.from(group.querySelectorAll('input[name$="-start_time"]'))
        .filter((input) => !input.name.includes("__prefix__"))
        .map((input) => input.closest("tr"));
    }

    function fieldsOf(row) {
      return {
        start: row.querySelector('input[name$="-start_time"]'),
        end: row.querySelector('input[name$="-end_time"]'),
        type: row.querySelector('select[name$="-fragment_type"]'),
        label: row.querySelector('input[name$="-label"]'),
        remove: row.querySelector('input[name$="-DELETE"]'),
      };
    }

    function cutOf(row) {
      const f = fieldsOf(row);
      const start = parseFloat(f.start.value);
      const end = parseFloat(f.end.value);
      return { start, end, valid: Number.isFinite(start) && Number.isFinite(end) };
    }

    function seek(t) {
      if (!video) return;
      video.currentTime = clamp(t, 0, duration);
    }

    function play(start, end) {
      if (!video) return;
      stopAt = end;
      video.currentTime = start;
      const started = video.play();
      if (started && started.catch) started.catch(() => {});
      tick();
    }

    function tick() {
      if (stopAt !== null && video.currentTime >= stopAt - frame / 2) {
        video.pause();
        video.currentTime = stopAt;
        stopAt = null;
      }
      playhead.style.left = pct(video.currentTime || 0);
      clock.textContent = (video.currentTime || 0).toFixed(2) + " s";
      if (!video.paused) window.requestAnimationFrame(tick);
    }

    function thumbnailFor(row, seconds) {
      const cell = row.querySelector(".field-thumbnail") || row;
      let img = cell.querySelector("img.ce-thumb");
      const placeholder = cell.querySelector(".ce-thumb-none");
      if (!img && placeholder) {
        img = document.createElement("img");
        img.className = "ce-thumb ce-thumb-small";
        img.alt = "First frame of the cut";
        placeholder.replaceWith(img);
      }
      if (img) {
        const millis = Math.round(clamp(seconds, 0, Math.max(duration - 0.05, 0)) * 1000);
        img.src = frameBase + millis + ".jpg";
      }
    }

    function setupRow(row) {
      const cell = row.querySelector("[data-ce-cut]");
      if (!cell || cell.dataset.ready) return;
      cell.dataset.ready = "1";
      const f = fieldsOf(row);
      for (const input of [f.start, f.end]) {
        input.min = "0";
        input.max = String(duration);
      }
      cell.textContent = "";
      const track = document.createElement("div");
      track.className = "ce-cut-track";
      const frames = document.createElement("div");
      frames.className = "ce-cut-frames";
      stripImages.forEach((img) => {
        const copy = img.cloneNode();
        copy.draggable = false; // a dragged image would cancel the handle's drag
        copy.alt = "";
        frames.append(copy);
      });
      const range = document.createElement("div");
      range.className = "ce-cut-range";
      const handleIn = document.createElement("input");
      const handleOut = document.createElement("input");
      [
        [handleIn, "ce-handle-in", "In point (start)"],
        [handleOut, "ce-handle-out", "Out point (end)"],
      ].forEach(([handle, name, label]) => {
        handle.type = "range";
        handle.min = "0";
        handle.max = String(duration);
        handle.step = String(frame);
        handle.className = "ce-handle " + name;
        handle.setAttribute("aria-label", label);
        handle.dataset.ceHandle = name === "ce-handle-in" ? "in" : "out";
      });
      track.append(frames, range, handleIn, handleOut);
      const controls = document.createElement("div");
      controls.className = "ce-cut-controls";
      const playButton = document.createElement("button");
      playButton.type = "button";
      playButton.className = "ce-play";
      playButton.dataset.cePlay = "";
      playButton.textContent = "▶ Play the cut";
      const readout = document.createElement("span");
      readout.className = "ce-cut-readout";
      readout.dataset.ceReadout = "";
      const note = document.createElement("span");
      note.className = "ce-cut-note";
      note.dataset.ceNote = "";
      controls.append(playButton, readout, note);
      cell.append(track, controls);

      // `dragged`: the handle under the pointer; setting its value would end the drag.
      function show(dragged) {
        const cut = cutOf(row);
        // A row without a cut shows the whole video: its handles start apart.
        const start = cut.valid ? cut.start : 0;
        const end = cut.valid ? cut.end : duration;
        if (dragged !== handleIn) handleIn.value = String(clamp(start, 0, duration));
        if (dragged !== handleOut) handleOut.value = String(clamp(end, 0, duration));
        range.style.left = pct(clamp(start, 0, duration));
        range.style.width = pct(Math.max(clamp(end, 0, duration) - clamp(start, 0, duration), 0));
        range.classList.toggle("ce-cut-range-empty", !cut.valid);
        readout.textContent = cut.valid
          ? start.toFixed(2) + " s → " + end.toFixed(2) + " s · " + (end - start).toFixed(2) + " s"
          : "No cut yet";
        playButton.disabled = !(cut.valid && end > start);
        drawBars();
      }

      // The first move of a new row's handle starts its cut from the whole video.
      function ensureCut() {
        if (cutOf(row).valid) return;
        f.start.value = "0";
        f.end.value = shown(lastFrame());
      }

      // Dragging a handle moves its end of the cut, snapped to a frame and kept at
      // least a frame from the other end.
      function dragged(handle, field, bounds) {
        handle.addEventListener("input", () => {
          ensureCut();
          const [low, high] = bounds(cutOf(row));
          const t = clamp(snap(parseFloat(handle.value)), low, high);
          field.value = shown(t);
          note.textContent = "";
          seek(t);
          show(handle);
        });
      }
      dragged(handleIn, f.start, (cut) => [0, cut.end - frame]);
      dragged(handleOut, f.end, (cut) => [cut.start + frame, lastFrame()]);
      handleIn.addEventListener("change", () => {
        show();
        thumbnailFor(row, cutOf(row).start);
      });
      handleOut.addEventListener("change", () => show());
      [f.start, f.end].forEach((input) => {
        input.addEventListener("change", () => {
          const value = parseFloat(input.value);
          if (!Number.isFinite(value)) return show();
          let t = snap(clamp(value, 0, duration));
          if (value > duration) {
            note.textContent =
              "Past the end: the video is " + duration.toFixed(2) + " s long.";
          } else {
            note.textContent = "";
          }
          input.value = shown(t);
          if (input === f.start) thumbnailFor(row, t);
          show();
        });
        input.addEventListener("input", () => show());
      });
      if (f.type) f.type.addEventListener("change", drawBars);
      if (f.label) f.label.addEventListener("input", drawBars);
      if (f.remove) f.remove.addEventListener("change", drawBars);
      playButton.addEventListener("click", () => {
        const cut = cutOf(row);
        if (cut.valid && cut.end > cut.start) play(cut.start, cut.end);
      });
      row.ceShow = show;
      show();
    }

    function drawBars() {
      bars.textContent = "";
      const lanes = [];
      rows()
        .map((row) => ({ row, cut: cutOf(row), f: fieldsOf(row) }))
        .filter((item) => item.cut.valid && item.cut.end > item.cut.start)
        .sort((a, b) => a.cut.start - b.cut.start)
        .forEach((item) => {
          let lane = lanes.findIndex((end) => end <= item.cut.start);
          if (lane < 0) {
            lane = lanes.length;
            lanes.push(0);
          }
          lanes[lane] = item.cut.end;
          const bar = document.createElement("button");
          bar.type = "button";
          const kind = item.f.type ? item.f.type.value : "";
          bar.className =
            "ce-bar" +
            (TYPE_CLASSES.includes(kind) ? " ce-bar-" + kind : "") +
            (item.f.remove && item.f.remove.checked ? " ce-bar-deleted" : "");
          bar.style.left = pct(clamp(item.cut.start, 0, duration));
          bar.style.width = pct(clamp(item.cut.end, 0, duration) - clamp(item.cut.start, 0, duration));
          bar.style.top = lane * 16 + "px";
          bar.textContent = (item.f.label && item.f.label.value) || kind || "cut";
          bar.title = bar.textContent + ": " + item.cut.start.toFixed(2) + "–" + item.cut.end.toFixed(2) + " s";
          bar.addEventListener("click", () => {
            item.row.scrollIntoView({ block: "center", behavior: "smooth" });
            const handle = item.row.querySelector("[data-ce-handle='in']");
            if (handle) handle.focus({ preventScroll: true });
            seek(item.cut.start);
          });
          bars.append(bar);
        });
      // Room for three lanes from the start: a growing panel would move the rows
      // (and the handle being dragged) down the page.
      bars.style.height = Math.max(lanes.length, 3) * 16 + "px";
    }

    if (video) {
      ["timeupdate", "seeked", "play", "loadedmetadata"].forEach((name) =>
        video.addEventListener(name, tick)
      );
      video.addEventListener("pause", () => {
        if (stopAt !== null && video.currentTime < stopAt - frame) stopAt = null;
      });
    }
    // A row's thumbnail links to its cut (#t=) for a page without script: here the
    // cut plays in the cutter instead.
    group.addEventListener("click", (event) => {
      const link = event.target.closest(".ce-thumb-link");
      if (!link) return;
      const row = link.closest("tr");
      const cut = row ? cutOf(row) : null;
      if (!cut || !cut.valid || cut.end <= cut.start) return;
      event.preventDefault();
      play(cut.start, cut.end);
    });
    timeline.addEventListener("click", (event) => {
      if (event.target.closest(".ce-bar")) return;
      const box = timeline.getBoundingClientRect();
      seek(snap(((event.clientX - box.left) / box.width) * duration));
    });

    rows().forEach(setupRow);
    // Rows added with "Add another" are set up as they appear; removed ones drop out.
    // (The table only: the bars drawn above it must not wake the observer.)
    const table = group.querySelector("table") || group;
    new MutationObserver(() => {
      rows().forEach(setupRow);
      drawBars();
    }).observe(table, { childList: true, subtree: true });
    drawBars();
  }

  function start() {
    document.querySelectorAll("[data-ce-tags]").forEach(setupTags);
    document.querySelectorAll("[data-ce-cutter]").forEach(setupCutter);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
