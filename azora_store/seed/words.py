"""Word lists for the seed generator: 500 skills and the words of job texts.

Skills are real technologies and trades, ordered roughly by popularity (the
generator draws them with Zipf-like weights by position). Job titles and
descriptions are built from these words, so full-text search meets the
frequent and the rare terms a real marketplace has.
"""

from __future__ import annotations

BASE_SKILLS = """
python javascript react sql typescript node java php wordpress excel
graphic design copywriting seo data analysis figma django aws html css
android ios flutter swift kotlin go rust c# docker kubernetes
postgresql mysql mongodb redis linux git devops machine learning
data science tableau power bi shopify magento laravel symfony vue angular
svelte next nuxt tailwind bootstrap sass webpack vite jest cypress
selenium scrapy pandas numpy pytorch tensorflow nlp computer vision opencv
photoshop illustrator indesign after effects premiere blender unity unreal
3d modeling animation video editing motion graphics logo design branding
ux research ui design product management project management scrum agile
content writing technical writing translation proofreading transcription
bookkeeping accounting quickbooks xero tax preparation financial modeling
business plan market research lead generation email marketing social media
facebook ads google ads tiktok marketing instagram youtube podcast editing
voice over music production sound design customer support virtual assistant
data entry salesforce hubspot zapier airtable notion google sheets
firebase supabase graphql rest api microservices spring dotnet azure gcp
terraform ansible jenkins github actions ci cd security penetration testing
blockchain solidity web3 smart contracts chrome extension electron
qa testing manual testing automation testing game development arduino
raspberry pi embedded c c++ matlab r statistics excel vba
legal writing contract drafting grant writing resume writing recruiting
illustration character design comic art interior design architecture
autocad revit solidworks cad drafting civil engineering electrical engineering
""".split("\n")

SKILL_SUFFIXES = ["api", "migration", "audit", "consulting", "training", "automation",
                  "integration", "optimization", "maintenance", "dashboard"]


def _skills() -> list[str]:
    words: list[str] = []
    for line in BASE_SKILLS:
        for word in line.split():
            if word not in words:
                words.append(word)
    # Join frequent pairs that are single skills ("machine learning").
    pairs = {("graphic", "design"), ("data", "analysis"), ("machine", "learning"),
             ("data", "science"), ("power", "bi"), ("computer", "vision")}
    skills: list[str] = []
    skip = False
    for index, word in enumerate(words):
        if skip:
            skip = False
            continue
        following = words[index + 1] if index + 1 < len(words) else None
        if (word, following) in pairs:
            skills.append(f"{word} {following}")
            skip = True
        else:
            skills.append(word)
    base = list(skills)
    for suffix in SKILL_SUFFIXES:
        for skill in base:
            if len(skills) >= 500:
                return skills
            skills.append(f"{skill} {suffix}")
    return skills[:500]


SKILLS: list[str] = _skills()

TITLE_OPENERS = ["Senior", "Junior", "Experienced", "Expert", "Freelance", "Part-time",
                 "Long-term", "Urgent", "Remote", "Certified"]
TITLE_ROLES = ["developer", "engineer", "designer", "consultant", "specialist", "writer",
               "analyst", "architect", "editor", "expert", "freelancer", "tutor"]
TITLE_TASKS = ["for an online store", "for a fintech startup", "to fix bugs", "for a mobile app",
               "to build a dashboard", "for a marketing campaign", "to migrate our platform",
               "for a research project", "to improve performance", "for a nonprofit",
               "to review our code", "for a logistics company", "to launch a website",
               "for a healthcare app", "to automate reports", "for an education platform"]

DESCRIPTION_WORDS = """
need build project experience team work deliver quality deadline client website
application platform feature design develop integrate maintain support improve
performance scalable secure reliable clean documented tested responsive mobile
backend frontend database server cloud deployment pipeline release payment
checkout inventory order customer user account dashboard report analytics
marketplace booking schedule calendar notification email message chat search
filter upload image video audio content blog article landing page campaign brand
logo identity style guide wireframe prototype mockup feedback iteration
milestone budget estimate weekly daily communication english french swahili
startup company agency nonprofit school hospital retail restaurant travel
logistics fintech health education ecommerce real estate agriculture energy
existing legacy codebase refactor migrate upgrade version bug issue crash fix
optimize speed load latency cache query index api endpoint webhook integration
third party service provider stripe paypal mpesa flutterwave twilio sendgrid
translation localization accessibility compliance privacy gdpr audit review
training documentation handover onboarding maintenance retainer hourly fixed
price remote timezone flexible long term ongoing opportunity portfolio samples
""".split()
