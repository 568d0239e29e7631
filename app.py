"""Hugging Face Space entry point: the produce_classifier Gradio app (`make_demo` says where its model comes from)."""
from produce_classifier.app import MAX_FILE_SIZE, make_demo

demo = make_demo()

if __name__ == "__main__":
    demo.launch(max_file_size=MAX_FILE_SIZE)
