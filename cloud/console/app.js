// The web console of the MT3620 security service: plain JavaScript over the management REST API (no build step).
// It keeps the user's token in this tab's sessionStorage and sends it as a bearer token: the service applies the same
// authentication and roles to every call, so the console can offer nothing the user's role does not allow.
"use strict";

const state = { token: sessionStorage.getItem("mt3620-token") || "", tenant: "", view: "groups" };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "onclick" || key === "onchange" || key === "onsubmit") node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    node.append(child instanceof Node ? child : document.createTextNode(child == null ? "" : String(child)));
  }
  return node;
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const data = text && (response.headers.get("Content-Type") || "").startsWith("application/json") ? JSON.parse(text) : text;
  if (!response.ok) throw new Error(`${response.status} ${data.ErrorCode || ""}: ${data.Message || text}`);
  return data;
}

function showError(error) {
  const box = document.getElementById("error");
  box.textContent = error ? String(error.message || error) : "";
  box.hidden = !error;
}

function table(id, columns, rows) {
  return el("table", { id },
    el("thead", {}, el("tr", {}, columns.map(([title]) => el("th", {}, title)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, columns.map(([, cell]) => {
      const value = cell(row);
      return el("td", {}, value instanceof Node ? value : value == null ? "" : String(value));
    })))));
}

const T = () => `/v2/tenants/${state.tenant}`;
const POLICIES = ["UpdateAll", "No3rdPartyAppUpdates", "NoUpdates"];
const FEEDS = ["Retail", "RetailEval"];

const views = {
  async products() {
    const products = await api("GET", `${T()}/products`);
    return [el("h2", {}, "Products"), table("products", [["Name", (p) => p.Name], ["Description", (p) => p.Description],
      ["Id", (p) => p.Id]], products)];
  },

  async groups() {
    const [groups, products] = await Promise.all([api("GET", `${T()}/devicegroups`), api("GET", `${T()}/products`)]);
    const productName = Object.fromEntries(products.map((p) => [p.Id, p.Name]));
    const detail = el("div", { id: "group-detail" });
    const open = async (group) => { detail.replaceChildren(...await groupDetail(group)); };
    return [el("h2", {}, "Device groups"),
      table("groups", [["Product", (g) => productName[g.ProductId]],
        ["Group", (g) => el("button", { class: "open-group", "data-name": g.Name, onclick: () => open(g).catch(showError) },
          g.Name)],
        ["OS feed", (g) => FEEDS[g.OsFeedType]], ["Update policy", (g) => POLICIES[g.UpdatePolicy]],
        ["Current deployment", (g) => g.CurrentDeploymentId || "none"]], groups),
      detail];
  },

  async devices() {
    const [devices, groups] = await Promise.all([api("GET", `${T()}/devices`), api("GET", `${T()}/devicegroups`)]);
    const statuses = await Promise.all(devices.map((d) => api("GET", `${T()}/devices/${d.DeviceId}/updatestatus`)));
    const groupName = new Map(groups.map((g) => [g.Id, g.Name]));
    return [el("h2", {}, "Devices"), deviceTable("devices", devices, statuses, groupName)];
  },

  async images() {
    const images = await api("GET", `${T()}/images`);
    return [el("h2", {}, "Images"), table("images", [["Name", (i) => i.Name], ["Image", (i) => i.Id],
      ["Component", (i) => i.ComponentId], ["Type", (i) => i.ImageType], ["Security version", (i) => i.SecurityVersion],
      ["Trust", (i) => i.TrustStatus], ["Uploaded", (i) => i.UploadedAt]], images)];
  },

  async errors() {
    const groups = await api("GET", `${T()}/devicegroups`);
    const groupFilter = el("select", { id: "error-group" }, el("option", { value: "" }, "all device groups"),
      groups.map((g) => el("option", { value: g.Id }, g.Name)));
    const categoryFilter = el("input", { id: "error-category", placeholder: "category (e.g. AppCrash)" });
    const output = el("div", { id: "error-output" });
    const load = async () => {
      const query = groupFilter.value ? `&deviceGroupId=${groupFilter.value}` : "";
      const page = await api("GET", `${T()}/errorreports?maxPageSize=1000${query}`);
      const wanted = categoryFilter.value.trim().toLowerCase();
      const events = page.Items.filter((e) => !wanted || e.EventCategory.toLowerCase().includes(wanted));
      output.replaceChildren(chart(events), el("p", { id: "error-count" }, `${events.length} event(s)`),
        table("error-events", [["Time", (e) => e.EventTime], ["Device", (e) => e.DeviceId.slice(0, 16) + "…"],
          ["Category", (e) => e.EventCategory], ["Type", (e) => e.EventType], ["Count", (e) => e.EventCount],
          ["Description", (e) => e.Description]], events));
    };
    groupFilter.addEventListener("change", () => load().catch(showError));
    categoryFilter.addEventListener("input", () => load().catch(showError));
    await load();
    return [el("h2", {}, "Error reports (last 14 days)"),
      el("div", { class: "filters" }, groupFilter, categoryFilter), output];
  },

  async roles() {
    const roles = await api("GET", `${T()}/roles`);
    const user = el("input", { id: "role-user", placeholder: "user name", required: "" });
    const role = el("select", { id: "role-role" }, ["Reader", "Contributor", "Administrator"].map((r) => el("option", {}, r)));
    const form = el("form", { id: "role-form", onsubmit: (event) => {
      event.preventDefault();
      api("POST", `${T()}/roles`, { User: user.value, Role: role.value }).then(render).catch(showError);
    } }, user, role, el("button", { type: "submit", id: "role-add" }, "Give role"));
    return [el("h2", {}, "Users and roles"),
      table("roles", [["User", (r) => r.User], ["Role", (r) => r.Roles.join(", ")],
        ["", (r) => el("button", { class: "role-delete", onclick: () =>
          api("DELETE", `${T()}/roles/${encodeURIComponent(r.User)}`).then(render).catch(showError) }, "Remove")]], roles),
      form];
  },

  async audit() {
    const entries = await api("GET", `${T()}/auditlog`);
    return [el("h2", {}, "Audit log"), table("audit", [["Time", (e) => e.Time], ["User", (e) => e.User],
      ["Operation", (e) => e.Operation], ["Status", (e) => e.Status], ["Path", (e) => e.Path],
      ["Detail", (e) => e.Detail]], entries)];
  },
};

async function groupDetail(group) {
  const [history, status, devices] = await Promise.all([
    api("GET", `${T()}/devicegroups/${group.Id}/deployments`),
    api("GET", `${T()}/devicegroups/${group.Id}/deploymentstatus`),
    api("GET", `${T()}/devicegroups/${group.Id}/devices`)]);
  const statuses = await Promise.all(devices.map((d) => api("GET", `${T()}/devices/${d.DeviceId}/updatestatus`)));
  return [el("h3", {}, `${group.Name}: deployments`),
    table("deployments", [["Deployed", (d) => d.DeploymentDateUtc], ["By", (d) => d.DeployedBy],
      ["Images", (d) => d.DeployedImages.join(", ")], ["Current", (d) => (d.Current ? "yes" : "")]], history),
    el("p", { id: "deployment-summary" }, Object.entries(status.Summary).map(([k, v]) => `${k}: ${v}`).join(" · ")),
    el("h3", {}, `${group.Name}: devices and why (not) updating`),
    deviceTable("group-devices", devices, statuses)];
}

function deviceTable(id, devices, statuses, groupName = null) {
  const group = groupName ? [["Device group", (d) => groupName.get(d.DeviceGroupId) || d.DeviceGroupId || ""]] : [];
  return table(id, [["Device", (d) => d.DeviceId.slice(0, 16) + "…"], ...group, ["OS", (d) => d.OsVersion],
    ["Last update check", (d) => d.LastUpdateCheckAt],
    ["Update status", (d) => {
      const status = statuses[devices.indexOf(d)];
      return el("div", {}, status.Reasons.map((r) =>
        el("span", { class: `reason reason-${r.Code}`, title: r.Message }, `${r.Code}: ${r.Message}`)));
    }]], devices);
}

function chart(events) {
  // Events per day over the 14 days of the report that end on the newest event's day (days without events are
  // empty bars: the axis is time), newest on the right (SVG, no library). The newest event, not the browser's
  // clock, anchors it: the service's clock may differ from the browser's.
  const DAY_MS = 86400000, SPAN = 14;
  const counts = new Map();
  for (const e of events) {
    const day = e.EventTime.slice(0, 10);
    counts.set(day, (counts.get(day) || 0) + (e.EventCount || 1));
  }
  const newest = [...counts.keys()].sort().pop();
  const keys = [];
  if (newest) {
    const end = Date.parse(`${newest}T00:00:00Z`);
    for (let i = SPAN - 1; i >= 0; i -= 1) keys.push(new Date(end - i * DAY_MS).toISOString().slice(0, 10));
  }
  const days = new Map(keys.map((day) => [day, counts.get(day) || 0]));
  const width = 560, height = 140, bar = keys.length ? Math.min(36, (width - 20) / keys.length - 4) : 0;
  const max = Math.max(1, ...days.values());
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("id", "error-chart");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  keys.forEach((day, i) => {
    const h = Math.round((days.get(day) / max) * (height - 30));
    const rect = document.createElementNS(svg.namespaceURI, "rect");
    Object.entries({ x: 10 + i * (bar + 4), y: height - 20 - h, width: bar, height: h, "data-day": day,
      "data-count": days.get(day) }).forEach(([k, v]) => rect.setAttribute(k, v));
    const label = document.createElementNS(svg.namespaceURI, "text");
    label.setAttribute("x", 10 + i * (bar + 4));
    label.setAttribute("y", height - 6);
    label.textContent = day.slice(5);
    svg.append(rect, label);
  });
  return svg;
}

async function render() {
  showError(null);
  document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("active", b.dataset.view === state.view));
  const view = document.getElementById("view");
  if (!state.tenant) {
    view.replaceChildren(el("p", {}, "You hold a role in no tenant yet."));
    return;
  }
  view.replaceChildren(el("p", {}, "Loading…"));
  try {
    view.replaceChildren(...await views[state.view]());
  } catch (error) {
    view.replaceChildren();
    showError(error);
  }
}

async function signIn(token) {
  state.token = token;
  const me = await api("GET", "/v2/users/me");
  sessionStorage.setItem("mt3620-token", token);
  document.getElementById("who").textContent = `${me.Name}${me.ServiceRoles.length ? " (" + me.ServiceRoles.join(", ") + ")" : ""}`;
  const tenants = await api("GET", "/v2/tenants");
  const select = document.getElementById("tenant-select");
  select.replaceChildren(...tenants.map((t) => el("option", { value: t.Id }, `${t.Name} (${t.Roles.join(", ")})`)));
  state.tenant = tenants.length ? tenants[0].Id : "";
  document.getElementById("signin-view").hidden = true;
  document.getElementById("app").hidden = false;
  document.getElementById("signout").hidden = false;
  await render();
}

function signOut() {
  sessionStorage.removeItem("mt3620-token");
  state.token = "";
  location.reload();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn(document.getElementById("token").value.trim()).catch((error) => {
      sessionStorage.removeItem("mt3620-token");
      alertSignIn(error);
    });
  });
  document.getElementById("signout").addEventListener("click", signOut);
  document.getElementById("tenant-select").addEventListener("change", (event) => {
    state.tenant = event.target.value;
    render();
  });
  document.querySelectorAll("nav button").forEach((button) => button.addEventListener("click", () => {
    state.view = button.dataset.view;
    render();
  }));
  if (state.token) signIn(state.token).catch(() => sessionStorage.removeItem("mt3620-token"));
});

function alertSignIn(error) {
  let note = document.getElementById("signin-error");
  if (!note) {
    note = el("p", { id: "signin-error", role: "alert" });
    document.getElementById("signin-view").append(note);
  }
  note.textContent = `Sign-in refused: ${error.message}`;
}
