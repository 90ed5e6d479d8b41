# nas_dataset_info (issue 32): a data set as the programs read it; adapts a space file to it.
nas_add_program(nas_dataset_info LIBS nas_datasets nas_search_space)
