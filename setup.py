from setuptools import find_packages, setup

setup(
    name="cgan",
    version="0.1.0",
    description='The Habr article "Autoencoders in Keras, Part 5: GAN and tensorflow" runnable today',
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",  # numpy 2.4.6, scipy 1.17.1 and others of requirements.txt need 3.11
    packages=find_packages(include=["cgan", "cgan.*"]),
    package_data={"cgan": ["data/mnist.npz", "weights/*.npz"]},
    install_requires=[
        "tensorflow>=2.21,<2.22",
        "tf-keras>=2.21,<2.22",
        "numpy",
        "scipy",
        "matplotlib",
        "pillow",
        "tqdm",
        "tensorboard",
    ],
    extras_require={
        "dask": ["dask[distributed]>=2026.8"],
        "notebook": ["jupyterlab", "notebook", "ipywidgets", "ipykernel", "nbclient", "nbformat", "papermill"],
        "test": ["pytest", "hypothesis", "selenium", "ipywidgets", "ipykernel", "nbclient", "nbformat", "papermill",
                 "jupyterlab", "dask[distributed]>=2026.8"],
    },
    entry_points={"console_scripts": ["cgan=cgan.__main__:run"]},
    license="MIT",
    license_files=["LICENSE"],
)
