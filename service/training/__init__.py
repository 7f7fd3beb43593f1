"""Training the default spaces: word2vec, the task classifier, the learning curve."""
