"""Everything offline: the default spaces as recipes and their runner, the word2vec corpus
and training, task data, the classifier, Keras model reading, and the experiments. The only
package that imports TensorFlow or trains with gensim (both lazily, inside functions).

May import: service.store, service.analysis and the top-level settings, errors, text;
never service.web, never Flask.
"""
