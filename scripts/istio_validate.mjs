// istio_validate.mjs: every Kubernetes document given, by its apiVersion and kind, validated
// against the schema of Istio's own CRDs with the models of @kubernetes-models/istio (types,
// enumerations, required fields), for scripts/mesh.sh.
//
// Usage: cd MODELS_DIR && node --input-type=module - DOCS_JSON < istio_validate.mjs
//   MODELS_DIR  where npm installed @kubernetes-models/istio
//   DOCS_JSON   the documents, a JSON array
// Read from standard input so that its imports resolve from MODELS_DIR, the working directory,
// as they would not from this file's own directory. Prints "KIND NAME: valid" for each; throws
// (node exits 1) at the first document without a schema or that its schema refuses.
const docs = JSON.parse(process.argv[2]);
for (const doc of docs) {
  const [group, version] = doc.apiVersion.split("/");
  const models = await import(`@kubernetes-models/istio/${group}/${version}/${doc.kind}`)
    .catch(() => { throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`); });
  new models[doc.kind](doc).validate();
  console.log(`${doc.kind} ${doc.metadata.name}: valid`);
}
