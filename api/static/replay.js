// The replay beside an observation or a session: rrweb's player, the timeline the model read kept
// in step with it, and every (t N) citation a link that seeks the player to that second.
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const holder = document.getElementById("player");
  if (!holder) return;
  const status = document.getElementById("player-status");
  let events;
  try {
    const response = await fetch(holder.dataset.events, { credentials: "same-origin" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    events = await response.json();
  } catch (error) {
    status.textContent = "The recording could not be loaded (" + error.message + ").";
    return;
  }
  if (events.length < 2) {
    status.textContent = "This recording has too few events to replay.";
    return;
  }
  events.sort((a, b) => a.timestamp - b.timestamp);
  const Player = window.rrwebPlayer && (window.rrwebPlayer.default || window.rrwebPlayer);
  if (!Player) {
    status.textContent = "The replay player did not load.";
    return;
  }
  const width = Math.max(320, holder.clientWidth);
  const player = new Player({
    target: holder,
    props: { events, width, height: Math.round(width * 0.6), autoPlay: false, skipInactive: false },
  });
  // The timeline counts seconds from the recording's start; the player from its first event.
  const offsetMs = Number(holder.dataset.startMs) - events[0].timestamp;
  const lines = [...document.querySelectorAll("#timeline li[data-second]")];
  const highlight = (ms) => {
    const second = (ms - offsetMs) / 1000;
    let current = null;
    for (const line of lines) {
      if (Number(line.dataset.second) <= second) current = line;
      else break;
    }
    for (const line of lines) line.classList.toggle("now", line === current);
    if (current) current.scrollIntoView({ block: "nearest" });
  };
  player.addEventListener("ui-update-current-time", (event) => highlight(event.payload));
  const seek = (second) => {
    const ms = Math.max(0, second * 1000 + offsetMs);
    player.goto(ms, false);
    highlight(ms);
    holder.scrollIntoView({ block: "nearest" });
  };
  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-seek]");
    if (!link) return;
    event.preventDefault();
    seek(Number(link.dataset.seek));
  });
  for (const line of lines) {
    line.addEventListener("click", () => seek(Number(line.dataset.second)));
  }
  // Tests and people read where the player is.
  window.sightlineReplay = {
    currentSecond: () => (player.getReplayer().getCurrentTime() - offsetMs) / 1000,
    player,
  };
  status.textContent = "";
  const cited = location.hash.match(/^#t=(\d+(?:\.\d+)?)$/);
  if (cited) seek(Number(cited[1]));
});
