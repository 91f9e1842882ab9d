"""Word lists of the demo world: personas (roles and their vocabulary), names, places.

Each persona lists phrases per slot of a LinkedIn-style profile. Phrases are tagged automatically (by
`profile_text`) with the reference keyword-filter terms they contain, so experts and non-experts share
words the way real profiles do: experts talk about PyTorch and custom losses, analysts and product
managers also say "machine learning"; recruiters say "candidate", nurses say "doctor".
"""

from __future__ import annotations

# --------------------------------------------------------------------------------------------------
# Personas. Slots: title, description, skill, education, summary.
# --------------------------------------------------------------------------------------------------

EXPERT_PERSONAS: dict[str, dict[str, list[str]]] = {
    "research_scientist": {
        "title": [
            "Research Scientist", "Senior Research Scientist", "Staff Research Scientist",
            "Research Engineer", "Member of Technical Staff", "Machine Learning Researcher", "AI Researcher",
            "Principal Scientist",
        ],
        "description": [
            "Train large transformer language models and study their scaling behaviour.",
            "Published papers at NeurIPS, ICML and ICLR on attention mechanisms.",
            "Work on interpretability of large neural networks.",
            "Developed self-supervised objectives for vision transformers.",
            "Designed a custom loss for long-tailed classification.",
            "Research on deep learning for protein structure prediction.",
            "Built evals for frontier language models.",
            "Lead author of papers on sparse attention and mixture-of-experts.",
            "Pretraining data curation and tokenizer design for multilingual models.",
            "Studied generalisation of overparameterised networks.",
            "Developed new optimisers for training at scale.",
            "Research on machine learning theory and representation learning.",
            "Led a cross functional research team of six scientists.",
            "Mentored research interns and reviewed for NeurIPS.",
            "Worked closely with product management to ship research into the assistant.",
        ],
        "skill": [
            "PyTorch", "JAX", "Transformers", "Deep Learning", "Attention Mechanisms", "Representation Learning",
            "Python", "CUDA", "Large Language Models", "Interpretability", "Research", "Scientific Writing",
            "Statistics", "Optimization",
        ],
        "education": [
            "PhD, Computer Science", "PhD, Machine Learning", "Doctor of Philosophy - PhD, Statistics",
            "PhD, Physics", "MSc, Artificial Intelligence", "PhD, Electrical Engineering",
        ],
        "summary": [
            "Research scientist working on alignment and interpretability of language models.",
            "I train models and write papers about why they work.",
            "Interested in the science of deep learning.",
        ],
    },
    "ml_engineer": {
        "title": [
            "Machine Learning Engineer", "Senior Machine Learning Engineer", "ML Engineer", "Deep Learning Engineer",
            "Software Engineer, Machine Learning", "AI Engineer", "Software Engineer", "Senior Software Engineer",
            "Research Engineer",
        ],
        "description": [
            "Implemented fused attention kernels in CUDA and Triton for PyTorch training.",
            "Trained and fine-tuned transformer models for speech recognition.",
            "Wrote distributed training code in PyTorch and JAX for billion-parameter models.",
            "Designed ranking models with deep learning and a custom loss for calibration.",
            "Built the training pipeline for multimodal models.",
            "Optimised inference of diffusion models on GPUs.",
            "Developed reinforcement learning agents for ad bidding.",
            "Reproduced state-of-the-art papers and adapted them to our data.",
            "Built the model evaluation harness and regression evals.",
            "Trained recommendation models on billions of events.",
            "Quantised and distilled large models for on-device inference.",
            "Owned the ML training infrastructure on thousands of GPUs.",
            "Handled incident response for the model serving stack.",
            "Worked with customer teams to fine-tune models on their data.",
            "Improved retrieval augmented generation with learned rerankers.",
        ],
        "skill": [
            "PyTorch", "TensorFlow", "JAX", "CUDA", "Triton", "Deep Learning", "Machine Learning", "Transformers",
            "Distributed Training", "Python", "C++", "Kubernetes", "Computer Vision", "NLP",
        ],
        "education": [
            "MSc, Computer Science", "BSc, Computer Science", "MEng, Machine Learning", "PhD, Computer Science",
            "MSc, Mathematics",
        ],
        "summary": [
            "Engineer who likes making models train faster.",
            "Building and scaling deep learning systems.",
            "I turn research ideas into production models.",
        ],
    },
    "applied_scientist": {
        "title": [
            "Applied Scientist", "Senior Applied Scientist", "Data Scientist, Machine Learning", "Quantitative Researcher",
            "Applied Research Scientist", "Data Scientist",
        ],
        "description": [
            "Developed deep learning models for demand forecasting with a custom quantile loss.",
            "Built graph neural networks for fraud detection.",
            "Fine-tuned transformers for document understanding.",
            "Designed causal inference and uplift models for pricing.",
            "Applied reinforcement learning to inventory control.",
            "Published two papers at KDD on sequential recommendation.",
            "Built feature engineering pipelines and gradient boosted models for credit risk.",
            "Trained contrastive embedding models for product search.",
            "Developed anti-fraud models with attention over transaction sequences.",
            "Presented results to senior management every quarter.",
        ],
        "skill": [
            "PyTorch", "Machine Learning", "Deep Learning", "Causal Inference", "Python", "SQL", "Spark",
            "Time Series", "Graph Neural Networks", "Bayesian Statistics", "Feature Engineering",
        ],
        "education": [
            "PhD, Statistics", "PhD, Operations Research", "MSc, Machine Learning", "PhD, Economics",
            "MSc, Computer Science",
        ],
        "summary": [
            "Applied scientist turning models into decisions.",
            "Machine learning for forecasting and ranking.",
        ],
    },
    "phd_researcher": {
        "title": [
            "PhD Candidate", "Graduate Research Assistant", "Research Intern", "Doctoral Researcher",
            "Postdoctoral Researcher", "Visiting Researcher", "PhD Student",
        ],
        "description": [
            "Thesis on efficient attention for long sequences.",
            "Research on reinforcement learning from human feedback.",
            "Working on mechanistic interpretability of transformers.",
            "Published at NeurIPS and ICML; reviewer for ICLR.",
            "Studying robustness of deep neural networks to distribution shift.",
            "Developed new methods for offline RL.",
            "Research on generative models for molecules.",
            "Teaching assistant for the graduate deep learning course.",
            "Designed custom loss functions for weakly supervised segmentation.",
            "Collaborated with the Helmholtz Science Institute on climate models.",
        ],
        "skill": [
            "PyTorch", "JAX", "Research", "Deep Learning", "Reinforcement Learning", "LaTeX", "Python",
            "Mathematics", "Probabilistic Modeling",
        ],
        "education": [
            "PhD, Computer Science", "Doctor of Philosophy - PhD, Machine Learning", "MSc, Mathematics",
            "MSc, Computer Science", "PhD, Neuroscience",
        ],
        "summary": [
            "PhD candidate working on efficient and safe machine learning.",
            "Researcher interested in learning theory and language models.",
        ],
    },
    "rl_researcher": {
        "title": [
            "Reinforcement Learning Researcher", "Research Scientist, RL", "Robotics Research Engineer",
            "MATS Scholar", "Research Engineer, Agents", "Robot Learning Engineer",
        ],
        "description": [
            "Multi-agent reinforcement learning for traffic control.",
            "Trained policies for dexterous manipulation in simulation and on hardware.",
            "Built large-scale RL environments for language agents.",
            "Research on reward modelling and preference learning.",
            "Developed model-based planning algorithms for robots.",
            "Worked on AI safety evals for autonomous agents.",
            "Published papers on exploration in sparse-reward tasks.",
            "Wrote simulators in C++ and trained agents with PPO.",
        ],
        "skill": [
            "Reinforcement Learning", "PyTorch", "JAX", "Robotics", "Control Theory", "Python", "C++", "Simulation",
        ],
        "education": ["PhD, Robotics", "PhD, Computer Science", "MSc, Control Engineering", "MSc, Artificial Intelligence"],
        "summary": [
            "Building agents that learn from interaction.",
            "Reinforcement learning researcher focused on robotics.",
        ],
    },
}

NON_EXPERT_PERSONAS: dict[str, dict[str, list[str]]] = {
    "data_analyst": {
        "title": [
            "Data Analyst", "Senior Data Analyst", "Business Intelligence Analyst", "Analytics Engineer",
            "Reporting Analyst", "Insights Analyst",
        ],
        "description": [
            "Built Tableau dashboards for the sales team.",
            "Ran A/B tests on pricing pages and reported uplift.",
            "Wrote SQL pipelines in dbt and BigQuery.",
            "Presented machine learning insights to stakeholders.",
            "Automated weekly reporting with Python and Looker.",
            "Did feature engineering for the churn model with the data science team.",
            "Monitored dashboards for ML model performance.",
            "Supported the customer success team with usage analytics.",
            "Defined KPIs together with senior management.",
            "Cleaned and documented master data for the ERP migration.",
        ],
        "skill": [
            "SQL", "Tableau", "Power BI", "Excel", "Python", "Looker", "A/B Testing", "Data Visualization", "dbt",
            "Statistics",
        ],
        "education": ["BSc, Economics", "BSc, Statistics", "MSc, Business Analytics", "BA, Mathematics", "Data Analytics Bootcamp"],
        "summary": [
            "Analyst who turns data into decisions.",
            "Curious analyst with a passion for dashboards.",
        ],
    },
    "data_scientist_generalist": {
        "title": ["Data Scientist", "Senior Data Scientist", "Marketing Data Scientist", "Decision Scientist", "Junior Data Scientist"],
        "description": [
            "Used scikit-learn for churn prediction and feature engineering.",
            "Built forecasting models in Python for the supply team.",
            "Applied ML to marketing attribution.",
            "Built customer segmentation with k-means clustering.",
            "Called the OpenAI API to classify support tickets.",
            "Ran experiments and A/B tests for the growth team.",
            "Automated reports in R and Shiny.",
            "Built machine learning models for lead scoring with XGBoost.",
            "Maintained a logistic regression model for credit approvals.",
            "Fine-tuned a BERT model with Hugging Face for sentiment analysis.",
            "Used pretrained transformers from Hugging Face to tag support tickets.",
        ],
        "skill": [
            "Python", "R", "scikit-learn", "SQL", "Machine Learning", "Statistics", "XGBoost", "Pandas", "A/B Testing",
        ],
        "education": ["MSc, Data Science", "BSc, Statistics", "MSc, Economics", "Data Science Bootcamp", "MSc, Physics"],
        "summary": ["Data scientist with a business mindset.", "I like clean data and simple models."],
    },
    "mlops_engineer": {
        "title": ["MLOps Engineer", "Platform Engineer", "DevOps Engineer", "Site Reliability Engineer", "Data Engineer",
                  "Cloud Engineer", "Machine Learning Engineer", "AI Engineer"],
        "description": [
            "Deployed ML models to Kubernetes with CI/CD.",
            "Maintained Airflow and Spark pipelines.",
            "Set up the MLflow model registry and feature store.",
            "Built infrastructure as code with Terraform.",
            "Reduced cloud costs by 30 percent.",
            "On-call for incident response on the data platform.",
            "Migrated the data warehouse to Snowflake.",
            "Productionised machine learning models built by the data science team.",
            "Built monitoring for GPU clusters used for model training.",
        ],
        "skill": [
            "Kubernetes", "Docker", "Terraform", "AWS", "GCP", "Airflow", "Spark", "MLflow", "Python", "Go", "MLOps",
            "PyTorch", "Model Serving",
        ],
        "education": ["BSc, Computer Science", "BEng, Software Engineering", "MSc, Information Systems", "BSc, Physics"],
        "summary": ["Platform engineer who keeps pipelines green.", "Automating everything that can be automated."],
    },
    "product_manager": {
        "title": ["Product Manager", "Senior Product Manager", "Technical Product Manager, AI", "Product Owner", "Group Product Manager"],
        "description": [
            "Launched an AI assistant built on the OpenAI API.",
            "Defined the roadmap for machine learning features.",
            "Ran evals on chatbot vendors before procurement.",
            "Built a retrieval augmented generation prototype with LangChain.",
            "Owned onboarding and activation metrics.",
            "Worked with design and engineering on the mobile app.",
            "Wrote PRDs and ran discovery interviews.",
            "Led cross functional squads of engineers, designers and analysts.",
            "Grew the e-commerce checkout conversion by 12 percent.",
        ],
        "skill": [
            "Product Management", "Roadmapping", "User Research", "Agile", "Jira", "A/B Testing", "SQL",
            "Stakeholder Communication", "Generative AI",
        ],
        "education": ["MBA", "BSc, Computer Science", "BA, Economics", "MSc, Human Computer Interaction"],
        "summary": ["Product manager who loves AI products.", "Building products people love."],
    },
    "software_engineer": {
        "title": ["Software Engineer", "Backend Developer", "Full Stack Developer", "Frontend Engineer", "Mobile Developer", "Senior Software Engineer"],
        "description": [
            "Built REST APIs in Java and Spring Boot.",
            "Developed React front ends for the booking flow.",
            "Integrated ML APIs into the iOS app.",
            "Maintained payment microservices in Go.",
            "Wrote end-to-end tests and improved CI speed.",
            "Migrated services from a monolith to microservices.",
            "Built internal tools in TypeScript.",
            "Worked on the search backend with Elasticsearch.",
        ],
        "skill": ["Java", "TypeScript", "React", "Go", "Python", "PostgreSQL", "Docker", "AWS", "Git", "REST APIs"],
        "education": ["BSc, Computer Science", "BEng, Computer Engineering", "Coding Bootcamp", "MSc, Software Engineering"],
        "summary": ["Engineer who enjoys clean code.", "Full stack developer."],
    },
    "consultant": {
        "title": ["Consultant", "Senior Consultant", "AI Strategy Consultant", "Solutions Architect", "Technology Consultant", "Associate Partner"],
        "description": [
            "Advised banks on machine learning adoption.",
            "Delivered digital transformation programmes for Fortune 500 companies.",
            "Designed data platforms on Azure for public sector clients.",
            "Wrote AI strategy documents for executives.",
            "Ran workshops on generative AI use cases.",
            "Led pre-sales for ML and analytics offerings.",
            "Managed delivery for a team of twelve consultants.",
        ],
        "skill": ["Consulting", "Stakeholder Management", "Azure", "Strategy", "PowerPoint", "Business Analysis", "Data Strategy"],
        "education": ["MBA", "MSc, Management", "BSc, Industrial Engineering", "MSc, Information Systems"],
        "summary": ["Trusted advisor for digital transformation.", "Helping companies adopt AI."],
    },
    "executive": {
        "title": ["Chief Technology Officer", "Founder & CEO", "VP Engineering", "Head of Data", "Managing Director", "Chief Data Officer"],
        "description": [
            "Founded the company and raised a seed round.",
            "Leading the AI and ML strategy of the group.",
            "Scaled the engineering organisation from 10 to 120 people.",
            "Built partnerships with cloud providers.",
            "Responsible for P&L and investment decisions.",
            "Board member and advisor to startups.",
        ],
        "skill": ["Leadership", "Strategy", "Fundraising", "Team Building", "Artificial Intelligence", "Public Speaking"],
        "education": ["MBA", "MSc, Computer Science", "BSc, Engineering", "Executive Education"],
        "summary": ["Entrepreneur and technology executive.", "Serial founder."],
    },
    "sales_marketing": {
        "title": ["Account Executive", "Sales Manager", "Marketing Manager", "Customer Success Manager", "Brand Manager", "Growth Marketer"],
        "description": [
            "Closed enterprise deals in the DACH region.",
            "Ran paid social campaigns with a six figure budget.",
            "Managed a portfolio of key accounts.",
            "Launched the brand refresh and new website.",
            "Grew customer retention with onboarding campaigns.",
            "Built the partner channel from scratch.",
            "Promoted our ML platform at trade shows.",
        ],
        "skill": ["Salesforce", "HubSpot", "Negotiation", "Marketing Strategy", "SEO", "Account Management", "Customer Service"],
        "education": ["BA, Marketing", "BBA", "BA, Communication", "Bachelor of Commerce"],
        "summary": ["Sales professional with a proven track record.", "Marketer who loves storytelling."],
    },
    "hr_recruiting": {
        "title": ["Talent Acquisition Partner", "Technical Recruiter", "HR Business Partner", "People Operations Manager", "Recruiter"],
        "description": [
            "Hired engineers for the ML platform team.",
            "Owned the candidate experience from sourcing to offer.",
            "Ran onboarding for new joiners.",
            "Partnered with leadership on compensation reviews.",
            "Built employer branding on LinkedIn.",
            "Sourced researchers for the AI lab.",
        ],
        "skill": ["Recruiting", "Sourcing", "HR", "Employer Branding", "Onboarding", "Workday", "Interviewing"],
        "education": ["BA, Psychology", "MSc, Human Resources", "BA, Sociology"],
        "summary": ["Connecting great people with great teams.", "People person."],
    },
    "finance": {
        "title": ["Financial Analyst", "Accountant", "Investment Associate", "Controller", "Risk Analyst", "Actuary"],
        "description": [
            "Prepared monthly close and variance analysis.",
            "Built financial models for budgeting.",
            "Reviewed credit risk models including ML scorecards.",
            "Supported audits and regulatory reporting.",
            "Worked on anti-money laundering controls.",
            "Managed the investment committee materials.",
        ],
        "skill": ["Excel", "Financial Modeling", "SAP", "Accounting", "Risk Management", "IFRS", "VBA"],
        "education": ["BSc, Finance", "MSc, Accounting", "CFA Level II", "BA, Economics"],
        "summary": ["Finance professional with an eye for detail.", "Numbers person."],
    },
    "operations": {
        "title": ["Operations Manager", "Supply Chain Analyst", "Project Manager", "Logistics Coordinator", "Production Engineer", "Plant Supervisor"],
        "description": [
            "Ran daily operations of a 200-person warehouse.",
            "Implemented lean manufacturing practices.",
            "Managed suppliers across three countries.",
            "Coordinated the rollout of a new ERP system.",
            "Reduced carbon emissions of the fleet by 15 percent.",
            "Planned production schedules and met tight deadlines.",
            "Evaluated an ML-based demand planning tool.",
        ],
        "skill": ["Supply Chain", "Lean", "Six Sigma", "SAP", "Project Planning", "Logistics", "Excel"],
        "education": ["BSc, Industrial Engineering", "BSc, Logistics", "MSc, Operations Management", "BEng, Mechanical Engineering"],
        "summary": ["Operations leader who gets things done.", "Process improvement enthusiast."],
    },
    "healthcare": {
        "title": ["Registered Nurse", "Clinical Research Coordinator", "Physiotherapist", "Pharmacist", "Medical Laboratory Scientist"],
        "description": [
            "Cared for patients on a busy surgical ward.",
            "Coordinated clinical trials across four sites.",
            "Worked alongside the attending doctor on rounds.",
            "Ran laboratory assays and quality control.",
            "Trained new staff on the electronic health record.",
            "Rehabilitation of sports injuries.",
        ],
        "skill": ["Patient Care", "Clinical Research", "GCP", "Phlebotomy", "Electronic Health Records", "Physiology"],
        "education": ["BSc, Nursing", "Doctor of Pharmacy", "MSc, Physiotherapy", "BSc, Biomedical Science"],
        "summary": ["Caring professional.", "Passionate about patient outcomes."],
    },
}

#: Non-expert personas that plausibly mention ML (used when a non-expert's text must carry an ML term).
TECH_ADJACENT_PERSONAS = (
    "data_analyst", "data_scientist_generalist", "mlops_engineer", "product_manager", "software_engineer",
    "consultant", "executive",
)

EXPERT_PERSONA_WEIGHTS = {
    "research_scientist": 0.28, "ml_engineer": 0.30, "applied_scientist": 0.17, "phd_researcher": 0.15,
    "rl_researcher": 0.10,
}

#: Phrases any persona may use, per slot; they carry many of the common "strict no" words.
SHARED_SLOTS: dict[str, list[str]] = {
    "description": [
        "Key responsibilities: planning, reporting and coordination.",
        "Worked with customer teams across Europe.",
        "Reported to the chief operating officer.",
        "Served on the diversity council.",
        "Supported the migration to the new cloud platform.",
        "Part of the centre of excellence for analytics.",
        "Prior to this role I worked in consulting.",
        "Joined as the first hire in the team.",
        "Remote, with regular travel.",
        "Mentored junior colleagues.",
        "",
    ],
    "skill": [
        "Machine Learning", "Deep Learning", "Feature Engineering", "Customer Service", "Management",
        "Project Management", "Communication", "Teamwork", "Microsoft Office", "English", "Problem Solving",
        "Python", "Leadership", "Public Speaking",
    ],
    "certification": [
        "Coursera: Machine Learning", "Udemy: Python for Everybody", "AWS Certified Machine Learning - Specialty",
        "Google: Data Analytics Certificate", "Scrum Alliance: Certified ScrumMaster", "PMI: PMP",
        "DeepLearning.AI: Deep Learning Specialization", "Microsoft: Azure Fundamentals", "Tableau Desktop Specialist",
        "Certified Information Systems Security Professional", "Stanford Online: Convex Optimization",
        "Kaggle: Intro to Programming",
    ],
    "summary": [
        "Proven track record of delivering results.",
        "Open to new opportunities.",
        "Based in Berlin, working remotely.",
        "Passionate about technology and people.",
        "Today I focus on building great teams.",
        "Ten years of experience in tech.",
        "Always learning.",
    ],
}

#: Descriptions in other languages (a few real profiles are not in English); filters rarely fire on them.
FOREIGN_DESCRIPTIONS: dict[str, list[str]] = {
    "de": [
        "Entwicklung von Modellen für maschinelles Lernen in der Produktion.",
        "Verantwortlich für Datenanalyse und Berichtswesen.",
        "Aufbau eines neuen Teams für künstliche Intelligenz.",
        "Betreuung von Kunden im Vertrieb.",
        "Forschung zu neuronalen Netzen und Sprachmodellen.",
    ],
    "fr": [
        "Développement de modèles d'apprentissage automatique pour la banque.",
        "Analyse de données et création de tableaux de bord.",
        "Recherche sur les réseaux de neurones profonds.",
        "Gestion de projets informatiques pour des clients grands comptes.",
    ],
    "es": [
        "Desarrollo de modelos de aprendizaje profundo para visión artificial.",
        "Análisis de datos y elaboración de informes.",
        "Investigación en aprendizaje por refuerzo.",
        "Atención al cliente y ventas.",
    ],
    "pt": [
        "Desenvolvimento de modelos de aprendizado de máquina.",
        "Análise de dados para o time de marketing.",
        "Pesquisa em redes neurais para processamento de linguagem.",
    ],
}

#: Non-expert persona weights per industry (the world's company industries).
INDUSTRY_PERSONA_WEIGHTS: dict[str, dict[str, float]] = {
    "AI research lab": {"software_engineer": 4, "mlops_engineer": 3, "product_manager": 2, "data_analyst": 1,
                        "hr_recruiting": 1, "executive": 0.5, "finance": 0.5, "sales_marketing": 1},
    "Software": {"software_engineer": 5, "product_manager": 2, "data_analyst": 1.5, "mlops_engineer": 1.5,
                 "sales_marketing": 2, "hr_recruiting": 0.7, "data_scientist_generalist": 1, "executive": 0.4},
    "IT consulting": {"consultant": 5, "software_engineer": 3, "data_analyst": 1, "data_scientist_generalist": 1,
                      "mlops_engineer": 1, "sales_marketing": 1, "hr_recruiting": 0.7, "executive": 0.3},
    "Financial services": {"finance": 5, "data_analyst": 2, "software_engineer": 2, "data_scientist_generalist": 1,
                           "sales_marketing": 1.5, "operations": 1, "hr_recruiting": 0.5, "consultant": 0.5},
    "Healthcare": {"healthcare": 7, "operations": 1.5, "data_analyst": 1, "finance": 0.7, "software_engineer": 0.7,
                   "hr_recruiting": 0.5},
    "Retail": {"sales_marketing": 4, "operations": 3, "data_analyst": 1.5, "software_engineer": 1.5,
               "product_manager": 0.8, "finance": 0.7, "data_scientist_generalist": 0.5},
    "Manufacturing": {"operations": 6, "software_engineer": 1, "finance": 1, "sales_marketing": 1,
                      "data_analyst": 0.8, "hr_recruiting": 0.5},
    "Telecommunications": {"software_engineer": 3, "operations": 2, "sales_marketing": 2, "mlops_engineer": 1,
                           "data_analyst": 1, "product_manager": 1},
    "Media": {"sales_marketing": 4, "software_engineer": 2, "product_manager": 1, "data_analyst": 1, "finance": 0.5},
    "Agriculture and food": {"operations": 6, "sales_marketing": 1.5, "finance": 1, "data_analyst": 0.5,
                             "healthcare": 0.3},
    "Energy": {"operations": 5, "finance": 1.5, "software_engineer": 1, "data_analyst": 1, "consultant": 0.5},
    "Education": {"operations": 2, "software_engineer": 1, "data_analyst": 1, "hr_recruiting": 1,
                  "sales_marketing": 1, "product_manager": 0.5},
}

# --------------------------------------------------------------------------------------------------
# Companies, employers, institutions, places.
# --------------------------------------------------------------------------------------------------

NAME_FIRST_WORDS = [
    "Northwind", "Bluefin", "Cedar", "Ironbridge", "Silverline", "Lumen", "Harbor", "Quartz", "Aster",
    "Brightwater", "Copperleaf", "Evergreen", "Falcon", "Granite", "Highland", "Juniper", "Keystone", "Lakeshore",
    "Meridian", "Nimbus", "Oakridge", "Pinecrest", "Redwood", "Summit", "Tidewater", "Vantage", "Willow", "Zephyr",
    "Alder", "Beacon", "Crescent", "Driftwood", "Ember", "Foxglove", "Glacier", "Hawthorn", "Indigo", "Kestrel",
    "Larkspur", "Maple", "Northstar", "Orchid", "Pioneer", "Quill", "Riverstone", "Sable", "Thistle", "Verdant",
    "Wren", "Amberly", "Bramble", "Cobalt", "Dunmore", "Elmstead", "Fernhill", "Goldcrest", "Heron", "Ivybridge",
    "Jasper", "Kingsley", "Lindenwood", "Mistral", "Newhaven", "Olympus", "Paragon", "Quarry", "Rowan", "Solstice",
    "Trillium", "Upland", "Valewood", "Westbrook", "Yarrow", "Zenith", "Arbor", "Birchwood", "Cascade", "Delta",
    "Eastgate", "Fairview", "Greystone", "Hollow", "Inlet", "Juno", "Kelvin", "Lodestar", "Marlowe", "Nova",
    "Orion", "Prairie", "Radiant", "Stonegate", "Torrent", "Unity", "Vesper", "Windmere", "Alpine", "Bayview",
    "Clearwater", "Dovetail", "Everest", "Foxhall", "Gateway", "Hillcrest", "Ironwood", "Jetstream", "Keel",
    "Lighthouse", "Moonstone", "Nettle", "Oakmont", "Pebble", "Ridgeline", "Saffron", "Tamarack", "Umbra",
    "Vireo", "Whitfield", "Sterling", "Halcyon",
]

INDUSTRY_NAME_WORDS: dict[str, list[str]] = {
    "AI research lab": ["AI", "Labs", "Intelligence", "Research", "Cognition", "Neural"],
    "Software": ["Software", "Systems", "Technologies", "Cloud", "Analytics", "Digital"],
    "IT consulting": ["Consulting", "Partners", "Solutions", "Advisory", "Infotech", "Services"],
    "Financial services": ["Bank", "Financial", "Insurance", "Asset Partners", "Payments", "Trust"],
    "Healthcare": ["Health", "Medical", "Clinics", "Pharma", "Care", "Biosciences"],
    "Retail": ["Retail", "Market", "Stores", "Goods", "Outfitters"],
    "Manufacturing": ["Industries", "Manufacturing", "Motors", "Materials", "Works"],
    "Telecommunications": ["Telecom", "Networks", "Communications", "Mobile"],
    "Media": ["Media", "Studios", "Publishing", "Broadcasting"],
    "Agriculture and food": ["Farms", "Agritech", "Harvest Foods", "Growers", "Dairy"],
    "Energy": ["Energy", "Power", "Renewables", "Utilities"],
    "Education": ["Academy", "Education", "Schools", "Learning Group"],
}

#: Industry -> (share of companies, Beta(a, b) of the non-zero ML-expert prevalence, stretched onto
#: [0.5%, 40%]): AI labs sit high (mean ~23%), software ~5%, most other industries 1-2%.
INDUSTRIES: dict[str, tuple[float, tuple[float, float]]] = {
    "AI research lab": (0.07, (4.0, 3.0)),
    "Software": (0.20, (1.0, 8.0)),
    "IT consulting": (0.12, (0.9, 14.0)),
    "Financial services": (0.12, (0.8, 20.0)),
    "Healthcare": (0.09, (0.7, 30.0)),
    "Retail": (0.08, (0.7, 30.0)),
    "Manufacturing": (0.08, (0.7, 35.0)),
    "Telecommunications": (0.06, (0.8, 18.0)),
    "Media": (0.05, (0.7, 25.0)),
    "Agriculture and food": (0.05, (0.6, 45.0)),
    "Energy": (0.05, (0.7, 30.0)),
    "Education": (0.03, (0.8, 20.0)),
}

COUNTRIES = {"US": 0.55, "GB": 0.12, "DE": 0.09, "FR": 0.08, "CA": 0.08, "IN": 0.08}

PAST_EMPLOYER_WORDS = [
    "Group", "Holdings", "Systems", "Labs", "Partners", "Technologies", "Solutions", "Studio", "Foundation",
    "University", "Hospital", "Agency", "Works", "Analytics", "Software",
]

INSTITUTIONS = [
    "University of Lakeshore", "Northgate Institute of Technology", "Valmont Polytechnic", "Redwood State University",
    "Kingsley College", "University of Eastmoor", "Technical University of Altbrunn", "Ecole Normale de Saint-Avre",
    "Westbrook University", "Halcyon Institute", "University of New Carden", "Riverside Polytechnic Institute",
    "Indian Institute of Technology Varanasi", "Universidad de Montalba", "Universita di Serravalle",
]
