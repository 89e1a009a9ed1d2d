/* The desk's time-grid calendar (sessions/pages/calendar_grid.py).

   Draws the vendored EventCalendar from our JSON endpoints (/api/v1/calendar/...), configured
   by the data-* attributes of #calendar-grid. The grid shows the practice's wall clock: the
   endpoints send local readings without an offset, the calendar runs at the practice's
   current offset (for the now-indicator) and draws them as they are, and a drag sends the
   new local reading back (the server turns it into the instant, R24). The component knows
   fixed offsets only, so a page left open across a daylight-saving change follows the
   practice's zone: its offset is read again each minute and the calendar told when it
   changes.

   A refused move (400/409) snaps back (`revert()`) and its reason is read out in the
   aria-live region #calendar-grid-status. No inline script or style: colours go through
   CSS custom properties set with the CSSOM. */
(function () {
  "use strict";

  var root = document.getElementById("calendar-grid");
  if (!root || !window.EventCalendar) {
    return;
  }
  var config = root.dataset;
  var labels = JSON.parse(config.labels);
  var statusRegion = document.getElementById("calendar-grid-status");
  var actions = document.getElementById("calendar-grid-actions");
  var colourSelect = document.getElementById("colour-by");
  var colourLegend = document.getElementById("colour-legend");
  // Accessible on white with dark text: they are used as a border, never behind text.
  var TYPE_COLOURS = ["#1b6ac9", "#b3261e", "#2e7d32", "#8e24aa", "#ef6c00", "#00838f",
    "#6d4c41", "#c2185b", "#546e7a", "#9e9d24"];
  var resources = [];
  var freeByResource = {};
  var typeColours = {};
  var typeNames = {};
  var therapists = {};

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  // A date the calendar hands out carries the grid's wall-clock reading in its local fields.
  function day(date) {
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate());
  }

  function reading(date) {
    return day(date) + "T" + pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  // The practice zone's offset now, as "+HH:MM" (the grid's timeZone), or null where the
  // browser cannot tell it (the server's offset at page load stays then).
  function practiceOffset() {
    try {
      var name = new Intl.DateTimeFormat("en-GB", {timeZone: config.zone, timeZoneName: "longOffset"})
        .formatToParts(new Date())
        .find(function (part) { return part.type === "timeZoneName"; }).value;
      var match = /GMT([+-]\d{2}:\d{2})?$/.exec(name);
      return match ? (match[1] || "+00:00") : null;
    } catch (error) {
      return null;
    }
  }

  function followTheZone() {
    var offset = practiceOffset();
    if (calendar && offset && offset !== calendar.getOption("timeZone")) {
      calendar.setOption("timeZone", offset);
      root.dataset.offset = offset;
      calendar.refetchEvents();
    }
  }

  function say(text) {
    statusRegion.textContent = "";
    // A fresh text node, so that a repeated message is announced again.
    window.setTimeout(function () { statusRegion.textContent = text; }, 50);
  }

  function api(url, options) {
    var init = Object.assign({
      credentials: "same-origin",
      headers: {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "X-Practice": config.practice,
        "X-CSRFToken": config.csrf
      }
    }, options || {});
    return fetch(url, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return {ok: response.ok, status: response.status, body: body};
      });
    });
  }

  function reason(body) {
    if (body.errors) {
      var messages = [];
      Object.keys(body.errors).forEach(function (name) {
        [].concat(body.errors[name]).forEach(function (message) { messages.push(message); });
      });
      if (messages.length) {
        return messages.join(" ");
      }
    }
    return body.detail || labels.refused;
  }

  function typeColour(session) {
    if (!(session.massage_type in typeColours)) {
      var index = Object.keys(typeColours).length % TYPE_COLOURS.length;
      typeColours[session.massage_type] = TYPE_COLOURS[index];
      typeNames[session.massage_type] = session.massage_type_name;
    }
    return typeColours[session.massage_type];
  }

  function colourOf(session) {
    return colourSelect.value === "type" ? typeColour(session) : session.therapist_colour;
  }

  function allResourceIds() {
    return resources.map(function (resource) { return String(resource.id); });
  }

  function sessionEvent(session) {
    typeColour(session);
    therapists[session.therapist] = {name: session.therapist_name, colour: session.therapist_colour};
    return {
      id: String(session.id),
      resourceIds: [String(session.resource)],
      start: session.starts,
      end: session.ends,
      title: session.patient_name + " · " + session.massage_type_name,
      editable: session.movable,
      classNames: ["session", "status-" + session.status],
      extendedProps: {session: session}
    };
  }

  function shadeEvent(shade) {
    return {
      start: shade.starts,
      end: shade.ends,
      display: "background",
      resourceIds: shade.resource === null ? allResourceIds() : [String(shade.resource)],
      classNames: ["shade-" + shade.kind],
      title: labels[shade.kind] || ""
    };
  }

  function freeEvent(free) {
    return {
      start: free.starts,
      end: free.ends,
      display: "background",
      resourceIds: [String(free.resource)],
      classNames: ["shade-free"],
      title: labels.free
    };
  }

  function loadEvents(info, success, failure) {
    var last = new Date(info.end.getTime() - 1);
    var query = new URLSearchParams({from: day(info.start), to: day(last), by: config.by});
    if (config.therapist) {
      query.set("therapist", config.therapist);
    }
    var free = config.by === "therapist"
      ? api(config.freeUrl + "?" + query)
      : Promise.resolve({ok: true, body: {free: []}});
    Promise.all([api(config.eventsUrl + "?" + query), free]).then(function (answers) {
      var events = answers[0];
      var frees = answers[1];
      if (!events.ok || !frees.ok) {
        say(labels.loading_failed);
        failure(new Error(reason(events.ok ? frees.body : events.body)));
        return;
      }
      freeByResource = {};
      frees.body.free.forEach(function (stretch) {
        (freeByResource[stretch.resource] = freeByResource[stretch.resource] || []).push(stretch);
      });
      success([].concat(
        // Working hours first: closures and time off are painted over them.
        events.body.shading.filter(function (shade) { return shade.kind === "working"; })
          .concat(events.body.shading.filter(function (shade) { return shade.kind !== "working"; }))
          .map(shadeEvent),
        frees.body.free.map(freeEvent),
        events.body.sessions.map(sessionEvent)
      ));
      drawColourLegend();
    }, function () {
      say(labels.loading_failed);
      failure(new Error(labels.loading_failed));
    });
  }

  function text(tag, className, content) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    node.textContent = content;
    return node;
  }

  function eventContent(info) {
    var session = info.event.extendedProps.session;
    if (!session) {
      return {domNodes: []};
    }
    var nodes = [
      text("span", "when", info.timeText),
      text("span", "who", session.patient_name),
      text("span", "what", session.massage_type_name +
        (config.by === "room" ? " · " + session.therapist_name : "")),
      text("span", "badge status-badge", session.status_label)
    ];
    if (session.screening_needed) {
      nodes.push(text("span", "badge screening-needed", labels.screening_needed));
    }
    return {domNodes: nodes};
  }

  function eventDidMount(info) {
    var session = info.event.extendedProps.session;
    if (session) {
      info.el.style.setProperty("--therapist", colourOf(session));
      // A narrow week column shows the time only: the rest on hover.
      info.el.title = session.starts.slice(11, 16) + "–" + session.ends.slice(11, 16) + " " +
        info.event.title + " · " + session.status_label;
    }
  }

  function drawColourLegend() {
    colourLegend.textContent = "";
    var entries = colourSelect.value === "type"
      ? Object.keys(typeColours).map(function (id) {
        return {name: typeNames[id], colour: typeColours[id]};
      })
      : Object.keys(therapists).map(function (id) { return therapists[id]; })
        .sort(function (a, b) { return a.name.localeCompare(b.name); });
    entries.forEach(function (entry) {
      var item = text("li", "block resource", entry.name);
      item.style.setProperty("--therapist", entry.colour);
      colourLegend.appendChild(item);
    });
  }

  function isFree(resourceId, date) {
    var at = reading(date);
    return (freeByResource[resourceId] || []).some(function (stretch) {
      return stretch.starts.slice(0, 16) <= at && at < stretch.ends.slice(0, 16);
    });
  }

  function dateClick(info) {
    if (config.by !== "therapist" || !info.resource) {
      return;
    }
    if (!isFree(Number(info.resource.id), info.date)) {
      say(labels.not_free);
      return;
    }
    var query = new URLSearchParams({
      therapist: info.resource.id,
      starts_at: reading(info.date),
      view: "grid-" + config.view,
      by: config.by
    });
    window.location.assign(config.bookUrl + "?" + query);
  }

  function link(label, href) {
    var anchor = text("a", "", label);
    anchor.href = href;
    return anchor;
  }

  function eventClick(info) {
    var session = info.event.extendedProps.session;
    if (!session) {
      return;
    }
    document.getElementById("grid-actions-summary").textContent =
      info.event.title + " · " + session.status_label + " · " + session.therapist_name +
      (session.room_name ? " · " + session.room_name : "");
    var links = document.getElementById("grid-actions-links");
    links.textContent = "";
    links.appendChild(link(labels.open, session.url));
    if (session.status === "booked") {
      links.appendChild(link(labels.check_in, session.url + "#check-in-form-heading"));
    }
    if (session.status === "checked_in") {
      var form = document.createElement("form");
      form.method = "post";
      form.action = config.startUrl.replace("/0/", "/" + session.id + "/");
      var token = document.createElement("input");
      token.type = "hidden";
      token.name = "csrfmiddlewaretoken";
      token.value = config.csrf;
      form.appendChild(token);
      form.appendChild(text("button", "", labels.start));
      links.appendChild(form);
    }
    actions.hidden = false;
    links.querySelector("a").focus();
  }

  function move(info, change) {
    var session = info.event.extendedProps.session;
    var url = config.moveUrl.replace("/0/", "/" + session.id + "/") + "?by=" + config.by;
    api(url, {method: "POST", body: JSON.stringify(change)}).then(function (answer) {
      if (!answer.ok) {
        info.revert();
        say(reason(answer.body));
        return;
      }
      say(labels.moved);
      calendar.refetchEvents();
    }, function () {
      info.revert();
      say(labels.refused);
    });
  }

  function eventDrop(info) {
    var change = {starts: reading(info.event.start)};
    if (info.newResource) {
      change.therapist = Number(info.newResource.id);
    }
    move(info, change);
  }

  function eventResize(info) {
    var minutes = Math.round((info.event.end - info.event.start) / 60000);
    move(info, {starts: reading(info.event.start), minutes: minutes});
  }

  // EventCalendar marks its grid up as an ARIA table whose row groups also hold the events
  // and the now-indicator, which axe rightly reports (aria-required-children). The grid is a
  // pointer view beside the list view, which is the accessible one (linked above it): drop
  // the table roles, whenever the calendar draws new nodes, and name the region instead.
  var TABLE_ATTRIBUTES = ["role", "aria-colindex", "aria-colspan", "aria-colcount",
    "aria-rowindex", "aria-rowspan", "aria-rowcount"];
  var TABLE_NODES = TABLE_ATTRIBUTES.map(function (name) {
    return name === "role"
      ? "[role=table],[role=rowgroup],[role=row],[role=columnheader],[role=rowheader]," +
        "[role=cell],[role=gridcell]"
      : "[" + name + "]";
  }).join(",");

  function dropTableRoles() {
    root.querySelectorAll(TABLE_NODES).forEach(function (node) {
      TABLE_ATTRIBUTES.forEach(function (name) {
        if (name !== "role" || node.getAttribute("role") !== "button") {
          node.removeAttribute(name);
        }
      });
    });
  }

  new MutationObserver(dropTableRoles).observe(root, {childList: true, subtree: true});

  var grid = pad(Math.floor(config.gridMinutes / 60)) + ":" + pad(config.gridMinutes % 60);
  var calendar = null;

  api(config.resourcesUrl + "?by=" + config.by).then(function (answer) {
    if (!answer.ok) {
      say(labels.loading_failed);
      return;
    }
    resources = answer.body.resources.filter(function (resource) {
      return !config.therapist || String(resource.id) === config.therapist;
    });
    calendar = window.EventCalendar.create(root, {
      view: config.view === "week" ? "resourceTimeGridWeek" : "resourceTimeGridDay",
      date: config.date,
      timeZone: config.offset,
      locale: config.locale,
      firstDay: 1,
      datesAboveResources: true,
      resources: resources.map(function (resource) {
        return {id: String(resource.id), title: resource.name};
      }),
      eventSources: [{events: loadEvents}],
      slotDuration: grid,
      snapDuration: grid,
      slotMinTime: "07:00",
      slotMaxTime: "21:00",
      flexibleSlotTimeLimits: true,
      scrollTime: "08:00",
      height: "auto",
      allDaySlot: false,
      nowIndicator: true,
      editable: true,
      eventStartEditable: true,
      eventDurationEditable: true,
      eventResourceEditable: config.by === "therapist",
      slotLabelFormat: {hour: "2-digit", minute: "2-digit"},
      eventTimeFormat: {hour: "2-digit", minute: "2-digit"},
      dayHeaderFormat: {weekday: "short", day: "numeric", month: "numeric"},
      headerToolbar: {start: "prev,next today", center: "title", end: ""},
      eventContent: eventContent,
      eventDidMount: eventDidMount,
      eventClick: eventClick,
      dateClick: dateClick,
      eventDrop: eventDrop,
      eventResize: eventResize
    });
    dropTableRoles();
    window.setInterval(followTheZone, 60 * 1000);
    root.dataset.ready = "true";
  }, function () {
    say(labels.loading_failed);
  });

  colourSelect.addEventListener("change", function () {
    if (calendar) {
      calendar.refetchEvents();
    }
  });
})();
