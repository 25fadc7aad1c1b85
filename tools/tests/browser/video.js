// Plays the film, seeks to 80 % and checks that it plays on from there.
// The outcome goes into the page (#video-status, the title) and, for the
// test, to the gateway's request log: a GET of /video-result/ok?<steps> or
// /video-result/failed?<steps>. Every byte of the film comes through the
// gateway as certified ranges.
const film = document.getElementById("film");
const steps = [];
let finished = false;

function report(outcome) {
  if (finished) return;
  finished = true;
  film.pause();
  const text = outcome + ": " + steps.join(", ");
  document.getElementById("video-status").textContent = text;
  document.title = text;
  const verdict = outcome === "video OK" ? "ok" : "failed";
  fetch("/video-result/" + verdict + "?" + encodeURIComponent(steps.join(", ")));
}

function step(name) {
  steps.push(name);
  document.getElementById("video-status").textContent = "running: " + steps.join(", ");
}

// Resolves once currentTime has moved `by` seconds past `from`.
function playsOn(from, by) {
  return new Promise((resolve) => {
    const check = () => {
      if (film.currentTime >= from + by) {
        film.removeEventListener("timeupdate", check);
        resolve(film.currentTime);
      }
    };
    film.addEventListener("timeupdate", check);
    check();
  });
}

function once(event) {
  return new Promise((resolve) => film.addEventListener(event, resolve, { once: true }));
}

film.addEventListener("error", () => {
  const error = film.error;
  step("error " + (error ? error.code + " " + error.message : "unknown"));
  report("video FAILED");
});

once("canplay")
  .then(() => {
    step("canplay (duration " + film.duration.toFixed(1) + " s)");
    return film.play();
  })
  .then(() => playsOn(0, 0.5))
  .then((time) => {
    step("played to " + time.toFixed(2) + " s");
    const target = film.duration * 0.8;
    const seeked = once("seeked");
    film.currentTime = target;
    return seeked.then(() => {
      step("seeked to " + film.currentTime.toFixed(2) + " s");
      return playsOn(film.currentTime, 0.5);
    });
  })
  .then((time) => {
    step("played on to " + time.toFixed(2) + " s");
    report("video OK");
  })
  .catch((error) => {
    step("exception " + error);
    report("video FAILED");
  });
