/* The body chart: the zone checkboxes are the real form (they work without this script, by
   keyboard and with a screen reader); this lets a click on a region of the drawing toggle
   its checkbox, and keeps the drawing in step with the boxes. A disabled box (a zone a rule
   forbids) is never toggled, and the server refuses it anyway if a forged form sends it; a
   click on its region says why above the drawing instead of doing nothing. */
(function () {
  "use strict";

  function enhance(chart) {
    var boxes = {};
    var layout = chart.querySelector("svg").parentNode;
    var note = document.createElement("p");
    note.className = "chart-note";
    note.setAttribute("role", "status");
    layout.parentNode.insertBefore(note, layout);

    var refuse = function (region) {
      var title = region.querySelector("title");
      note.textContent = title ? title.textContent : "";
      region.classList.add("is-refused");
      window.setTimeout(function () {
        region.classList.remove("is-refused");
      }, 1500);
    };
    chart.querySelectorAll('input[type="checkbox"][name="zones"]').forEach(function (box) {
      boxes[box.value] = box;
    });
    chart.querySelectorAll("svg [data-zone]").forEach(function (region) {
      var box = boxes[region.getAttribute("data-zone")];
      if (!box) {
        return;
      }
      var sync = function () {
        region.classList.toggle("is-chosen", box.checked);
      };
      region.addEventListener("click", function () {
        if (box.disabled) {
          refuse(region);
          return;
        }
        note.textContent = "";
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change", { bubbles: true }));
      });
      box.addEventListener("change", sync);
      sync();
    });
  }

  function init() {
    document.querySelectorAll("[data-body-chart]").forEach(enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
