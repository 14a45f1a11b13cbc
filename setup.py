"""Install kobert-gluon with its tested, pinned dependency set (see requirements.txt and README.md)."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_requirements(name):
    lines = (HERE / name).read_text(encoding='utf-8').splitlines()
    return [line.split('#')[0].strip() for line in lines if line.split('#')[0].strip()]


setup(
    name='kobert-gluon',
    version='0.1.0',
    description='KoBERT (Korean BERT) for MXNet Gluon / GluonNLP on current Python: model zoo, tokenizer with the '
                'original ids, fine-tuning, pretraining and ONNX export',
    long_description=(HERE / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.8',
    packages=find_packages(include=['kobert_gluon', 'kobert_gluon.*']),
    include_package_data=True,
    package_data={'kobert_gluon': ['models/*/*']},
    install_requires=read_requirements('requirements.txt'),
    extras_require={'test': read_requirements('requirements-test.txt')},
    entry_points={'console_scripts': ['kobert-gluon=kobert_gluon.cli:main']},
    classifiers=[
        'Programming Language :: Python :: 3',
        'License :: OSI Approved :: Apache Software License',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
        'Natural Language :: Korean',
    ],
)
