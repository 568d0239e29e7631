"""Hugging Face Space entry point: the produce_classifier Gradio app.

The model comes from MODEL_PATH, else the Hub repo MODEL_REPO or settings.ini's [app] model_repo (downloaded once,
checked against its model.json), else settings.ini's [app] model_path (models/model.pkl); the port from Gradio's own
GRADIO_SERVER_PORT. Without a model the page explains how to make one (`produce-classifier demo`).
"""
from produce_classifier.app import MAX_FILE_SIZE, make_demo

demo = make_demo()

if __name__ == "__main__":
    demo.launch(max_file_size=MAX_FILE_SIZE)
