// Starts GraphiQL against this server's /graphql: queries and mutations over
// HTTP, subscriptions over a websocket on the same path (graphql-transport-ws).
// Headers typed in the headers editor go with both, so
// {"Authorization": "Bearer <accessToken>"} authenticates queries and
// subscriptions alike.
(function () {
  'use strict';
  var url = location.origin + '/graphql';
  var subscriptionUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';
  var fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: subscriptionUrl });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultQuery: '# Carlot: press the play button (or Ctrl-Enter) to run the query.\n' +
        '{\n  vehicles(first: 5) {\n    nodes { vin year priceCents make { name } model { name } dealer { name } }\n  }\n}\n',
    }),
  );
})();
