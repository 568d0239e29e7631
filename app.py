"""Hugging Face Space entry point: the produce_classifier Gradio app.

The model comes from MODEL_PATH, else settings.ini's [app] model_path (models/model.pkl); the port from Gradio's own
GRADIO_SERVER_PORT. Without a model the page explains how to make one (`produce-classifier demo`).
"""
from produce_classifier.app import make_demo

demo = make_demo()

if __name__ == "__main__":
    demo.launch()
