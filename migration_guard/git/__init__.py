"""Repository access: git plumbing, snapshots and change sets, the base a change is
checked against, shallow-clone handling, and exporting a snapshot for tools that read files."""
