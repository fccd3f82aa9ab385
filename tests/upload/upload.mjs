// Uploads a photo of a vehicle to a running Carlot server with urql, which
// sends a File in the variables as a GraphQL multipart request.
//
//   CARLOT_TOKEN=<access token> node upload.mjs http://localhost:8080/graphql <vehicle id> photo.jpg
//
// Prints the server's answer as one JSON line; exits 1 on any error.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Client, fetchExchange, gql } from '@urql/core';

const [url, vehicleId, path] = process.argv.slice(2);
const token = process.env.CARLOT_TOKEN;
if (!url || !vehicleId || !path || !token) {
  console.error('usage: CARLOT_TOKEN=<access token> node upload.mjs <graphql url> <vehicle id> <file>');
  process.exit(2);
}

const client = new Client({
  url,
  exchanges: [fetchExchange],
  // Uploads need a bearer token: Carlot refuses multipart requests without one.
  fetchOptions: { headers: { Authorization: `Bearer ${token}` } },
});

const AddPhoto = gql`
  mutation AddPhoto($vehicleId: ID!, $file: Upload!, $alt: String) {
    addVehiclePhoto(vehicleId: $vehicleId, file: $file, alt: $alt) {
      id url thumbnailUrl width height contentType alt position
    }
  }
`;

const file = new File([await readFile(path)], basename(path));
const result = await client.mutation(AddPhoto, { vehicleId, file, alt: `Uploaded from ${basename(path)}` }).toPromise();
if (result.error) {
  console.log(JSON.stringify({ error: result.error.message }));
  process.exit(1);
}
console.log(JSON.stringify(result.data));
