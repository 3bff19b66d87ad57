// Renders GraphiQL into #graphiql, opening on fleetgate's example operations
// and the headers tab (README "Playground"). The page passes the endpoint and
// the examples in data attributes: the Content-Security-Policy allows no
// inline script.
(function () {
  var root = document.getElementById("graphiql");
  var data = root.dataset;
  var fetcher = GraphiQL.createFetcher({ url: new URL(data.endpoint, location.href).href });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      // The first tab and every new one open on these.
      defaultQuery: data.query,
      defaultHeaders: data.headers,
      defaultEditorToolsVisibility: "headers",
      // Tokens pasted into the headers stay in this tab, not in localStorage.
      shouldPersistHeaders: false,
    })
  );
})();
